//! Userlists (manual section 3.4 "Userlists") and the checks behind the
//! `http_auth` / `http_auth_group` fetches (section 7.3.6), with a bounded
//! cache of verified credentials so a hash is not recomputed per request.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::crypt;

/// A user's password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Password {
    /// `password <crypt string>`.
    Hashed(String),
    /// `insecure-password <plain>`.
    Insecure(String),
}

/// A user of a userlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// User name.
    pub name: String,
    /// Password.
    pub password: Password,
    /// Groups named on the user line (`groups a,b`).
    pub groups: Vec<String>,
}

/// Maximum number of cached verification results.
const CACHE_MAX: usize = 1024;

/// A userlist section.
#[derive(Debug)]
pub struct Userlist {
    /// Section name.
    pub name: String,
    /// Users.
    pub users: Vec<User>,
    /// Groups with their member user names (`group g users a,b`).
    pub groups: Vec<(String, Vec<String>)>,
    cache: Mutex<HashMap<[u8; 32], bool>>,
}

impl Userlist {
    /// A userlist from its users and groups.
    pub fn new(
        name: impl Into<String>,
        users: Vec<User>,
        groups: Vec<(String, Vec<String>)>,
    ) -> Self {
        Userlist {
            name: name.into(),
            users,
            groups,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn user(&self, name: &[u8]) -> Option<&User> {
        self.users.iter().find(|u| u.name.as_bytes() == name)
    }

    /// Whether `user`/`pass` are valid credentials.
    pub fn check(&self, user: &[u8], pass: &[u8]) -> bool {
        let Some(u) = self.user(user) else {
            return false;
        };
        match &u.password {
            Password::Insecure(p) => crypt::constant_eq(p.as_bytes(), pass),
            Password::Hashed(h) => {
                let key: [u8; 32] = Sha256::new()
                    .chain_update(user)
                    .chain_update([0])
                    .chain_update(pass)
                    .chain_update([0])
                    .chain_update(h)
                    .finalize()
                    .into();
                let mut cache = match self.cache.lock() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                if let Some(&ok) = cache.get(&key) {
                    return ok;
                }
                drop(cache);
                let ok = crypt::verify(pass, h);
                cache = match self.cache.lock() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                if cache.len() >= CACHE_MAX {
                    cache.clear();
                }
                cache.insert(key, ok);
                ok
            }
        }
    }

    /// Number of cached verifications (for tests and stats).
    pub fn cached(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Whether `user` belongs to `group` (either way of declaring it).
    pub fn in_group(&self, user: &[u8], group: &[u8]) -> bool {
        let Some(u) = self.user(user) else {
            return false;
        };
        u.groups.iter().any(|g| g.as_bytes() == group)
            || self.groups.iter().any(|(g, members)| {
                g.as_bytes() == group && members.iter().any(|m| m.as_bytes() == user)
            })
    }
}
