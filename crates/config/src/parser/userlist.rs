//! `userlist` sections (manual section 3.4 "Userlists"): `user NAME [password HASH |
//! insecure-password PASS] [groups G,...]` and `group NAME [users U,...]`. They are only
//! stored: the rules that check them (`http_auth`) belong to a later stage.

use crate::diag::{Diagnostic, Style};
use crate::lexer::Line;
use crate::model::{Userlist, UserlistGroup, UserlistUser};

pub fn header(line: &Line, existing: &[Userlist], diags: &mut Vec<Diagnostic>) -> Option<Userlist> {
    let loc = &line.location;
    let Some(name) = line.words.get(1) else {
        diags.push(Diagnostic::alert(
            loc,
            "'userlist' expects <name> as arguments.",
        ));
        return None;
    };
    if existing.iter().any(|u| u.name == *name) {
        diags.push(Diagnostic::warning(
            loc,
            format!("ignoring duplicated userlist '{name}'."),
        ));
        return None;
    }
    Some(Userlist {
        name: name.clone(),
        location: loc.clone(),
        users: Vec::new(),
        groups: Vec::new(),
    })
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

pub fn keyword(ul: &mut Userlist, line: &Line, diags: &mut Vec<Diagnostic>) {
    let loc = &line.location;
    let w = &line.words;
    let mut alert = |msg: String| diags.push(Diagnostic::alert(loc, msg));
    match w[0].as_str() {
        "user" => {
            let Some(name) = w.get(1) else {
                return alert("'user' expects <name> as arguments.".into());
            };
            if ul.users.iter().any(|u| u.name == *name) {
                return alert(format!(
                    "userlist '{}': user '{name}' already exists.",
                    ul.name
                ));
            }
            let mut user = UserlistUser {
                name: name.clone(),
                password: String::new(),
                insecure: false,
                groups: Vec::new(),
            };
            let mut i = 2;
            while i < w.len() {
                let Some(v) = w.get(i + 1) else {
                    return alert(format!("'{}' expects an argument.", w[i]));
                };
                match w[i].as_str() {
                    "password" => user.password = v.clone(),
                    "insecure-password" => {
                        user.password = v.clone();
                        user.insecure = true;
                    }
                    "groups" => user.groups = list(v),
                    other => {
                        return alert(format!(
                            "'user' only supports 'password', 'insecure-password' and 'groups' (got '{other}')."
                        ))
                    }
                }
                i += 2;
            }
            ul.users.push(user);
        }
        "group" => {
            let Some(name) = w.get(1) else {
                return alert("'group' expects <name> as arguments.".into());
            };
            if ul.groups.iter().any(|g| g.name == *name) {
                return alert(format!(
                    "userlist '{}': group '{name}' already exists.",
                    ul.name
                ));
            }
            let mut group = UserlistGroup {
                name: name.clone(),
                users: Vec::new(),
            };
            match (w.get(2).map(String::as_str), w.get(3)) {
                (None, _) => {}
                (Some("users"), Some(v)) => group.users = list(v),
                (Some(other), _) => {
                    return alert(format!(
                        "'group' only supports 'users' option (got '{other}')."
                    ))
                }
            }
            ul.groups.push(group);
        }
        other => diags.push(
            Diagnostic::alert(loc, format!("unknown keyword '{other}' in 'users' section"))
                .with_style(Style::ParsingTight),
        ),
    }
}
