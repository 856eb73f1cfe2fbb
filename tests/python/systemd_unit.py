"""systemd unit files read as systemd reads them (no systemd here): [Service] settings, an
EnvironmentFile, the expansion of an Exec line. Shared by the mount's and the server's unit
tests."""
import re
import shlex
from pathlib import Path


def unit_settings(text):
    """[Service] settings of a unit file: name → list of values (in order)."""
    out, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]":
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


def env_file(path):
    """An EnvironmentFile as systemd reads it (KEY=value, optional double quotes)."""
    out = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key] = value[1:-1] if value.startswith('"') and value.endswith('"') else value
    return out


def expand(command, env, instance):
    """systemd's expansion of an Exec line: %i, ${VAR} as one word, $VAR split on whitespace;
    a leading '-' (ignore failure) is dropped."""
    command = command.lstrip("-").replace("%i", instance)
    words = []
    for word in shlex.split(command):
        if re.fullmatch(r"\$\{\w+\}", word):
            words.append(env[word[2:-1]])
        elif re.fullmatch(r"\$\w+", word):
            words.extend(env[word[1:]].split())
        else:
            words.append(word)
    return words
