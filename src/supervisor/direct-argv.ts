// Runs a simple shell-form command ("node server.js") without the shell in between, so the instance's pid is the app's
// and signals reach it directly; anything with shell syntax keeps going through /bin/sh -c.

const SHELL_SYNTAX = /[;&|<>()$`\\"'*?[\]#~=%{}!\n]/;

/** ["/bin/sh", "-c", "node server.js"] → ["node", "server.js"]; other argv are returned as they are. */
export function directArgv(argv: string[]): string[] {
  if (argv.length !== 3 || argv[0] !== '/bin/sh' || argv[1] !== '-c') return argv;
  const script = argv[2]!.trim();
  if (!script || SHELL_SYNTAX.test(script)) return argv;
  const words = script.split(/\s+/);
  // A leading VAR=value assignment or a shell builtin needs the shell.
  if (/^(cd|export|source|\.|exec|set|ulimit|umask|wait|trap)$/.test(words[0]!)) return argv;
  return words;
}
