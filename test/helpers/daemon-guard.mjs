// Preloaded into daemons started by test/helpers/daemon.ts: their stdin is a pipe from the test
// process, so EOF means the test process is gone (even killed with SIGKILL) and a daemon must
// not outlive it, reconnecting forever to servers that died with it.
process.stdin.on('end', () => process.kill(process.pid, 'SIGKILL'));
process.stdin.on('error', () => process.kill(process.pid, 'SIGKILL'));
process.stdin.resume();
// The pipe alone must not keep a daemon alive that is done.
process.stdin.unref?.();
