#!/usr/bin/env python3
"""NetCDF-3 fixtures made by netCDF-C's own tools, in fixtures/netcdf3/ (see fixtures/README.md).

`ncgen` (Debian netcdf-bin) builds each CDL of scripts/cdl/ in the formats it is meant for;
then copies are renamed with netCDF-C itself (libnetcdf through ctypes, as its nc_test does):
in data mode, where netCDF-C overwrites a name in place with a shorter one padded with NULs and
keeps the old length in the header, and in define mode, where the header is rewritten.
Run: python scripts/make_cdl_fixtures.py [OUTDIR]   (needs ncgen and libnetcdf)
"""
import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "fixtures", "netcdf3")
# file -> (CDL, ncgen format)
BUILT = {
    "classic_types.nc": ("classic_types", "classic"),
    "classic_types_64bit_offset.nc": ("classic_types", "64-bit offset"),
    "zero_records.nc": ("zero_records", "64-bit offset"),
    "cdf5_types.nc": ("cdf5_types", "64-bit data"),
}
NC_WRITE, NC_GLOBAL = 1, -1


def ncgen(name, cdl, kind):
    out = os.path.join(OUT, name)
    subprocess.run(["ncgen", "-b", "-k", kind, "-o", out, os.path.join(HERE, "cdl", cdl + ".cdl")],
                   check=True)
    return out


class NetcdfC:
    """The few netCDF-C calls a rename needs, each checked."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(ctypes.util.find_library("netcdf"))
        self.ncid = ctypes.c_int()
        self.call("nc_open", path.encode(), NC_WRITE, ctypes.byref(self.ncid))

    def call(self, fn, *args):
        rc = getattr(self.lib, fn)(*args)
        if rc != 0:
            raise RuntimeError(f"{fn}{args}: {self.lib.nc_strerror(rc)}")

    def varid(self, name):
        v = ctypes.c_int()
        self.call("nc_inq_varid", self.ncid, name.encode(), ctypes.byref(v))
        return v.value

    def dimid(self, name):
        d = ctypes.c_int()
        self.call("nc_inq_dimid", self.ncid, name.encode(), ctypes.byref(d))
        return d.value

    def rename_var(self, old, new):
        self.call("nc_rename_var", self.ncid, self.varid(old), new.encode())

    def rename_dim(self, old, new):
        self.call("nc_rename_dim", self.ncid, self.dimid(old), new.encode())

    def rename_att(self, var, old, new):
        varid = NC_GLOBAL if var is None else self.varid(var)
        self.call("nc_rename_att", self.ncid, varid, old.encode(), new.encode())

    def close(self):
        self.call("nc_close", self.ncid)


def renamed(source, name, shorter, longer):
    """A copy of `source` renamed: `shorter` in data mode, then `longer` in define mode."""
    out = os.path.join(OUT, name)
    shutil.copyfile(source, out)
    nc = NetcdfC(out)
    for kind, *args in shorter:
        getattr(nc, "rename_" + kind)(*args)
    nc.close()
    nc = NetcdfC(out)
    nc.call("nc_redef", nc.ncid)
    for kind, *args in longer:
        getattr(nc, "rename_" + kind)(*args)
    nc.call("nc_enddef", nc.ncid)
    nc.close()


def main():
    os.makedirs(OUT, exist_ok=True)
    made = {name: ncgen(name, cdl, kind) for name, (cdl, kind) in BUILT.items()}
    shorter = [("var", "var.name.dots", "vd"), ("var", "sr3", "z"),
               ("dim", "dim-name-dashes", "dd"), ("att", "c", "att-name-dashes", "a"),
               ("att", None, "Gempty", "G"), ("att", "température", "unité", "u")]
    longer = [("var", "d23", "d23_renamed_to_a_longer_name"), ("dim", "D3", "D3_longer"),
              ("att", None, "Gd", "Gd_renamed_longer")]
    renamed(made["classic_types.nc"], "renamed_classic.nc", shorter, longer)
    renamed(made["cdf5_types.nc"], "renamed_cdf5.nc",
            [("var", "i64", "i"), ("dim", "rec", "r"), ("att", "ui", "att", "a")],
            [("var", "u64", "u64_longer")])
    print("NetCDF-3 fixtures written to", os.path.abspath(OUT))


if __name__ == "__main__":
    main()
