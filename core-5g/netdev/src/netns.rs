//! Network namespaces, for tests and the simulator: run code — open sockets, create TUN
//! devices, configure interfaces — inside a namespace, with no change to the rest of
//! the process.
//!
//! A namespace is entered per thread (`setns(2)` with `CLONE_NEWNET` changes only the
//! calling thread). [`run_in`] and [`run_in_new`] therefore run a closure on a new,
//! dedicated thread and join it: the caller's thread never changes namespace. What the
//! closure opens keeps its namespace for life — a socket or TUN returned from it still
//! sends and receives in the namespace after the thread has ended (and keeps the
//! namespace alive).
//!
//! Named namespaces are the files `ip netns` keeps under `/run/netns`. [`create`] and
//! [`delete`] shell out to `ip netns add` / `ip netns delete` (iproute2), which also
//! set up the bind mount and the `/run/netns` mount propagation; doing that here would
//! duplicate iproute2 for no gain. Everything needs `CAP_SYS_ADMIN` (root).

use std::fs::File;
use std::marker::PhantomData;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::process::Command;

use crate::error::Error;
use crate::raw;

/// Where `ip netns` keeps named namespaces.
pub const NETNS_DIR: &str = "/run/netns";

/// The calling thread's own namespace file.
const THREAD_NETNS: &str = "/proc/thread-self/ns/net";

/// Creates the named namespace (`ip netns add NAME`). Its loopback is down, as in
/// every new namespace.
pub fn create(name: &str) -> Result<(), Error> {
    check_name(name)?;
    ip(&["netns", "add", name])
}

/// Deletes the named namespace (`ip netns delete NAME`): the name goes at once; the
/// namespace itself lives on while a socket, TUN or thread still uses it.
pub fn delete(name: &str) -> Result<(), Error> {
    check_name(name)?;
    ip(&["netns", "delete", name])
}

/// Whether `/run/netns/NAME` exists.
pub fn exists(name: &str) -> bool {
    check_name(name).is_ok() && path(name).exists()
}

/// Runs `f` on a new thread inside the named namespace and returns what it returns.
/// A panic in `f` comes back as [`Error::Panicked`] with its message.
pub fn run_in<F, T>(name: &str, f: F) -> Result<T, Error>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    check_name(name)?;
    let ns = File::open(path(name)).map_err(Error::sys("open(/run/netns/NAME)"))?;
    let ns = OwnedFd::from(ns);
    on_thread(name, f, move || {
        raw::setns_net(ns.as_fd()).map_err(Error::sys("setns(CLONE_NEWNET)"))
    })
}

/// Runs `f` on a new thread inside a new, unnamed namespace (`unshare(CLONE_NEWNET)`),
/// which holds only a loopback interface, down. The namespace disappears when the
/// thread has ended and nothing `f` opened there is still open — handy for tests that
/// need their own addresses and routes and nothing to clean up.
pub fn run_in_new<F, T>(f: F) -> Result<T, Error>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    on_thread("(new)", f, || {
        raw::unshare_net().map_err(Error::sys("unshare(CLONE_NEWNET)"))
    })
}

/// Moves the calling thread into the named namespace until the guard is dropped (or
/// [`NetnsGuard::leave`] is called), when it returns to the namespace it was in.
///
/// Prefer [`run_in`]: a thread that stays in another namespace by mistake (a tokio
/// worker, say) is hard to find. The guard cannot move to another thread.
pub fn enter(name: &str) -> Result<NetnsGuard, Error> {
    check_name(name)?;
    let original = OwnedFd::from(File::open(THREAD_NETNS).map_err(Error::sys("open(/proc/thread-self/ns/net)"))?);
    let target = OwnedFd::from(File::open(path(name)).map_err(Error::sys("open(/run/netns/NAME)"))?);
    raw::setns_net(target.as_fd()).map_err(Error::sys("setns(CLONE_NEWNET)"))?;
    Ok(NetnsGuard {
        original: Some(original),
        _same_thread: PhantomData,
    })
}

/// Returned by [`enter`]: brings the thread back to its namespace when dropped.
#[derive(Debug)]
pub struct NetnsGuard {
    original: Option<OwnedFd>,
    /// `*const ()` makes the guard neither `Send` nor `Sync`: namespaces are per thread.
    _same_thread: PhantomData<*const ()>,
}

impl NetnsGuard {
    /// Returns to the original namespace, reporting a failure (which `Drop` cannot).
    pub fn leave(mut self) -> Result<(), Error> {
        match self.original.take() {
            Some(fd) => raw::setns_net(fd.as_fd()).map_err(Error::sys("setns(CLONE_NEWNET)")),
            None => Ok(()),
        }
    }
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        if let Some(fd) = self.original.take() {
            // Going back to a namespace this thread was in a moment ago needs only the
            // privilege that let it leave; nothing useful can be done if it fails.
            let _ = raw::setns_net(fd.as_fd());
        }
    }
}

/// A named namespace deleted on drop: [`create`] + [`delete`] for tests.
#[derive(Debug)]
pub struct Namespace {
    name: String,
}

impl Namespace {
    /// Creates the named namespace (`ip netns add`).
    pub fn create(name: &str) -> Result<Namespace, Error> {
        create(name)?;
        Ok(Namespace { name: name.to_owned() })
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// [`run_in`] this namespace.
    pub fn run<F, T>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        run_in(&self.name, f)
    }

    /// Deletes it now, reporting a failure (which `Drop` cannot).
    pub fn delete(self) -> Result<(), Error> {
        let name = std::mem::take(&mut std::mem::ManuallyDrop::new(self).name);
        delete(&name)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // Best effort: a leftover name is harmless and `ip netns delete` removes it.
        let _ = delete(&self.name);
    }
}

fn path(name: &str) -> PathBuf {
    PathBuf::from(NETNS_DIR).join(name)
}

/// A plain file name: 1-64 bytes of letters, digits, `-`, `_`, `.`, not `.`/`..`.
fn check_name(name: &str) -> Result<(), Error> {
    let invalid = |reason| Error::InvalidNamespace {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() || name.len() > 64 {
        return Err(invalid("must be 1-64 bytes"));
    }
    if name == "." || name == ".." {
        return Err(invalid("`.` and `..` are not names"));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err(invalid("only letters, digits, `-`, `_` and `.`"));
    }
    Ok(())
}

/// Runs `f` on a scoped thread after `enter` moved that thread into a namespace.
fn on_thread<F, T, E>(namespace: &str, f: F, enter: E) -> Result<T, Error>
where
    F: FnOnce() -> T + Send,
    T: Send,
    E: FnOnce() -> Result<(), Error> + Send,
{
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name(format!("netns {namespace}"))
            .spawn_scoped(scope, move || {
                enter()?;
                Ok(f())
            })
            .map_err(Error::sys("pthread_create"))?;
        match handle.join() {
            Ok(result) => result,
            Err(payload) => Err(Error::Panicked {
                namespace: namespace.to_owned(),
                message: panic_message(payload.as_ref()),
            }),
        }
    })
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}

/// Runs `ip ARGS…` and maps a failure to [`Error::Command`].
fn ip(args: &[&str]) -> Result<(), Error> {
    let command = format!("ip {}", args.join(" "));
    let out = Command::new("ip").args(args).output().map_err(|e| Error::Command {
        command: command.clone(),
        detail: format!("could not run it: {e}"),
    })?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::Command {
        command,
        detail: format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_names() {
        for ok in ["hx-test_1.a", "a", &"x".repeat(64)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "../etc", "a b", "é", &"x".repeat(65)] {
            assert!(
                matches!(check_name(bad), Err(Error::InvalidNamespace { .. })),
                "{bad:?}"
            );
        }
        assert!(!exists("../etc"));
        assert!(matches!(run_in("a/b", || ()), Err(Error::InvalidNamespace { .. })));
    }

    #[test]
    fn missing_namespace_is_reported() {
        let e = run_in("hexcore-no-such-namespace", || ()).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT), "{e}");
    }

    #[test]
    fn panic_messages() {
        assert_eq!(panic_message(&"boom"), "boom");
        assert_eq!(panic_message(&String::from("bang")), "bang");
        assert_eq!(panic_message(&42), "(non-string panic payload)");
    }
}
