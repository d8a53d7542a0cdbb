//! Binding the desktop's server: the configured port, or a free one when it is taken (another
//! inspector, another app). `serve` does not fall back: a script asked for that port.

use std::net::{IpAddr, SocketAddr, TcpListener};

/// The configured port was taken and another one is used instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortFallback {
    pub wanted: u16,
    pub got: u16,
}

impl PortFallback {
    /// What the UI and the terminal say about it.
    pub fn message(&self, url: &str) -> String {
        format!(
            "Port {} is in use by another program, so this inspector listens on port {} instead. \
             Point your SDKs at {url} (or free port {} and restart).",
            self.wanted, self.got, self.wanted
        )
    }
}

/// Binds `bind:port`; if that port is in use, a free port on the same address.
pub fn bind_with_fallback(bind: IpAddr, port: u16) -> std::io::Result<(TcpListener, Option<PortFallback>)> {
    match TcpListener::bind(SocketAddr::new(bind, port)) {
        Ok(listener) => Ok((listener, None)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && port != 0 => {
            let listener = TcpListener::bind(SocketAddr::new(bind, 0))?;
            let got = listener.local_addr()?.port();
            Ok((listener, Some(PortFallback { wanted: port, got })))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn a_free_port_is_used_as_is() {
        let probe = TcpListener::bind((LOOPBACK, 0)).unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let (listener, fallback) = bind_with_fallback(LOOPBACK, port).unwrap();
        assert_eq!(listener.local_addr().unwrap().port(), port);
        assert_eq!(fallback, None);
    }

    #[test]
    fn a_taken_port_falls_back_to_a_free_one_and_says_so() {
        let taken = TcpListener::bind((LOOPBACK, 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        let (listener, fallback) = bind_with_fallback(LOOPBACK, port).unwrap();
        let got = listener.local_addr().unwrap().port();
        assert_ne!(got, port);
        assert_eq!(fallback, Some(PortFallback { wanted: port, got }));
        let message = fallback.unwrap().message("http://127.0.0.1:1");
        assert!(message.contains(&port.to_string()) && message.contains(&got.to_string()));
    }

    #[test]
    fn port_zero_picks_a_free_port_without_a_fallback_notice() {
        let (listener, fallback) = bind_with_fallback(LOOPBACK, 0).unwrap();
        assert_ne!(listener.local_addr().unwrap().port(), 0);
        assert_eq!(fallback, None);
    }
}
