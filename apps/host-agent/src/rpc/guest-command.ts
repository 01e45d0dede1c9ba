/**
 * How a (cmd, args) pair from the wire becomes a guest process: with args, `cmd` is the program; without args,
 * `cmd` is a shell command line run by /bin/sh -c (so `{"cmd": "ls -l | wc -l"}` works as users expect).
 */

/** Program and arguments for envd. */
export function guestCommand(cmd: string, args: readonly string[]): { cmd: string; args: string[] } {
  if (args.length > 0) return { cmd, args: [...args] };
  return { cmd: "/bin/sh", args: ["-c", cmd] };
}
