//! Runs ffmpeg and ffprobe as child processes under strict control: stdin closed, a timeout,
//! cancellation, kill when the future is dropped, and — on Linux — SIGKILL when the parent
//! dies (`PR_SET_PDEATHSIG`), so no child outlives the server even after `kill -9`.
//!
//! Uploaded input is only ever opened with [`INPUT_GUARD`]: the `file` protocol alone and a
//! whitelist of single-file demuxers, so a "video" that is really an HLS playlist or a concat
//! list can never make ffmpeg open other files or URLs.

use std::collections::VecDeque;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

/// Demuxers accepted for uploaded sources (ffmpeg `-format_whitelist`). Every one reads a
/// single self-contained file; playlist-style demuxers (hls, concat, ffconcat, image2,
/// tee, …) are deliberately absent.
pub const DEMUXER_WHITELIST: &str =
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,mpegts,mp3,ogg,wav,flac,aac,avi,flv,asf,mpeg,mxf,w64,aiff";

/// Input options placed before every `-i` of an uploaded file.
pub const INPUT_GUARD: [&str; 4] = ["-protocol_whitelist", "file", "-format_whitelist", DEMUXER_WHITELIST];

/// Lines of stderr kept for error messages.
const STDERR_TAIL_LINES: usize = 40;

/// Why a child process did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("could not start {program}: {source} (is it installed and on PATH?)")]
    Spawn { program: String, source: std::io::Error },
    #[error("{program} timed out after {secs} s and was killed")]
    Timeout { program: String, secs: u64 },
    #[error("{program} was cancelled")]
    Cancelled { program: String },
    #[error("{program} failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("{program}: i/o error reading its output: {source}")]
    Io { program: String, source: std::io::Error },
}

/// Output of a successful run: all of stdout (when not streamed) and the tail of stderr.
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr_tail: String,
}

/// Makes the child get SIGKILL when Kino dies (Linux `PR_SET_PDEATHSIG`), so a crashed or
/// killed node never leaves an ffmpeg running; `kill_on_drop` covers every other exit.
pub fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Gives the child `fds` as file descriptors `first`, `first + 1`, … (for ffmpeg's
/// `pipe:N` outputs). The parent keeps its own copies: drop them once the child is spawned,
/// so the reading ends see the end of the stream when the child exits.
///
/// Panics: more than [`MAX_PASSED_FDS`] descriptors.
pub fn pass_fds(cmd: &mut Command, fds: &[std::os::fd::RawFd], first: std::os::fd::RawFd) {
    assert!(fds.len() <= MAX_PASSED_FDS, "at most {MAX_PASSED_FDS} descriptors");
    let mut given = [-1; MAX_PASSED_FDS];
    given[..fds.len()].copy_from_slice(fds);
    let count = fds.len();
    // SAFETY: only fcntl and dup2 run between fork and exec (async-signal-safe, no
    // allocation). Each descriptor is first copied above the target range, so placing one
    // cannot overwrite another not placed yet; dup2's copies are inherited by exec, the
    // temporary ones (F_DUPFD_CLOEXEC) are not.
    unsafe {
        cmd.pre_exec(move || {
            let mut high = [-1; MAX_PASSED_FDS];
            for i in 0..count {
                high[i] = libc::fcntl(given[i], libc::F_DUPFD_CLOEXEC, first + count as i32);
                if high[i] < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            for (i, fd) in high.iter().take(count).enumerate() {
                if libc::dup2(*fd, first + i as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// Most descriptors [`pass_fds`] gives a child.
pub const MAX_PASSED_FDS: usize = 16;

/// Runs `cmd` to completion within `timeout`. Every stdout line is handed to `on_line` when
/// given (ffmpeg `-progress pipe:1`); otherwise stdout is collected into [`Output::stdout`].
///
/// Errors: [`ProcessError`]; on timeout or cancellation the child is killed and reaped
/// before this returns.
pub async fn run(
    mut cmd: Command,
    timeout: Duration,
    cancel: &CancellationToken,
    mut on_line: Option<&mut (dyn FnMut(&str) + Send)>,
) -> Result<Output, ProcessError> {
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    die_with_parent(&mut cmd);
    let mut child = cmd.spawn().map_err(|source| ProcessError::Spawn {
        program: program.clone(),
        source,
    })?;
    let stdout = child.stdout.take().expect("stdout piped");
    let stderr = child.stderr.take().expect("stderr piped");

    let stderr_task = tokio::spawn(async move {
        let mut tail = VecDeque::with_capacity(STDERR_TAIL_LINES);
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if tail.len() == STDERR_TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(line);
        }
        Vec::from(tail).join("\n")
    });

    let work = async {
        let mut collected = Vec::new();
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next_line().await {
                Ok(Some(line)) => match on_line.as_deref_mut() {
                    Some(f) => f(&line),
                    None => {
                        collected.extend_from_slice(line.as_bytes());
                        collected.push(b'\n');
                    }
                },
                Ok(None) => break,
                Err(source) => {
                    return Err(ProcessError::Io {
                        program: program.clone(),
                        source,
                    });
                }
            }
        }
        let status = child.wait().await.map_err(|source| ProcessError::Io {
            program: program.clone(),
            source,
        })?;
        Ok((status, collected))
    };

    let outcome = tokio::select! {
        r = work => r,
        _ = tokio::time::sleep(timeout) => Err(ProcessError::Timeout { program: program.clone(), secs: timeout.as_secs() }),
        _ = cancel.cancelled() => Err(ProcessError::Cancelled { program: program.clone() }),
    };
    // `work` borrowed the child; on timeout/cancel it was dropped, so kill and reap here.
    let (status, stdout) = match outcome {
        Ok(v) => v,
        Err(e) => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            stderr_task.abort();
            return Err(e);
        }
    };
    let stderr_tail = stderr_task.await.unwrap_or_default();
    if !status.success() {
        let status = match status.code() {
            Some(code) => format!("exit code {code}"),
            None => "killed by a signal".to_string(),
        };
        return Err(ProcessError::Failed {
            program,
            status,
            stderr: stderr_tail,
        });
    }
    Ok(Output { stdout, stderr_tail })
}
