//! Quality of experience: what viewers saw (`docs/qoe.md`). The player sends beacons
//! ([`beacon`]); handlers validate them and [`queue`] writes them in batches, folded into one
//! summary per view; [`rollup`] adds views that are over to per-minute, hour and day rollups;
//! [`report`] answers the dashboards from rollups plus the views still open; [`tally`] holds
//! the definitions (Mux Data's where Mux has one).

pub mod beacon;
pub mod queue;
pub mod report;
pub mod rollup;
pub mod tally;

/// Browser and operating-system families of a `User-Agent` header, for breakdowns (woothee's
/// classifier; `""` when it does not know them). The header itself is not stored.
pub fn client_families(user_agent: &str) -> (String, String) {
    match woothee::parser::Parser::new().parse(user_agent) {
        Some(r) => {
            let known = |s: &str| {
                if s == woothee::woothee::VALUE_UNKNOWN {
                    String::new()
                } else {
                    s.to_string()
                }
            };
            (known(r.name), known(r.os))
        }
        None => (String::new(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_become_families() {
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(client_families(chrome), ("Chrome".into(), "Linux".into()));
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(client_families(safari), ("Safari".into(), "iPhone".into()));
        assert_eq!(client_families("curl/8.0"), ("HTTP Library".into(), String::new()));
        assert_eq!(client_families(""), (String::new(), String::new()));
    }
}
