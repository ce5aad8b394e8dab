// Runs a simple shell-form command ("node server.js") without the shell in between, so the instance's pid is the app's
// and signals reach it directly; anything with shell syntax keeps going through /bin/sh -c.

const SHELL_SYNTAX = /[;&|<>()$`\\"'*?[\]#~=%{}!\n]/;

/** Builtins and keywords that exist only inside a shell (POSIX special builtins, common regular ones, reserved words). */
const SHELL_WORDS = new Set(
  (': . break continue eval exec exit export readonly return set shift times trap unset cd read wait umask ulimit alias unalias ' +
    'getopts command type hash fg bg jobs source local declare typeset let if then else elif fi for while until do done case esac function select')
    .split(' '),
);

/** ["/bin/sh", "-c", "node server.js"] → ["node", "server.js"]; other argv are returned as they are. */
export function directArgv(argv: string[]): string[] {
  if (argv.length !== 3 || argv[0] !== '/bin/sh' || argv[1] !== '-c') return argv;
  const script = argv[2]!.trim();
  if (!script || SHELL_SYNTAX.test(script)) return argv;
  const words = script.split(/\s+/);
  // A leading VAR=value assignment or a shell builtin needs the shell.
  if (SHELL_WORDS.has(words[0]!)) return argv;
  return words;
}
