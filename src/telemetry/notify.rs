//! systemd's service notification protocol (sd_notify(3)) without libsystemd: one datagram
//! such as `READY=1` to the socket named by `$NOTIFY_SOCKET` (a path, or `@name` in the
//! abstract namespace). Without that variable (not started by systemd with `Type=notify`)
//! nothing is sent. Failures are logged at debug level only: notification is best effort.

use std::os::unix::net::UnixDatagram;

/// The mount (or the server) is usable.
pub const READY: &str = "READY=1";
/// The daemon is unmounting (or the server stopping).
pub const STOPPING: &str = "STOPPING=1";

/// Send `state` (newline-separated `KEY=value` assignments) to the service manager.
pub fn notify(state: &str) {
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else { return };
    if let Err(e) = send(&target, state) {
        tracing::debug!("sd_notify {state:?}: {e}");
    }
}

fn send(target: &std::ffi::OsStr, state: &str) -> std::io::Result<usize> {
    let sock = UnixDatagram::unbound()?;
    let bytes = target.as_encoded_bytes();
    match bytes.strip_prefix(b"@") {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            sock.send_to_addr(state.as_bytes(), &addr)
        }
        None => sock.send_to(state.as_bytes(), target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_to_a_path_and_to_an_abstract_name() {
        let dir = std::env::temp_dir().join(format!("cloudify-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let rx = UnixDatagram::bind(&path).unwrap();
        send(path.as_os_str(), READY).unwrap();
        let mut buf = [0u8; 64];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], READY.as_bytes());

        use std::os::linux::net::SocketAddrExt;
        let name = format!("cloudify-notify-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let rx = UnixDatagram::bind_addr(&addr).unwrap();
        send(std::ffi::OsStr::new(&format!("@{name}")), STOPPING).unwrap();
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], STOPPING.as_bytes());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
