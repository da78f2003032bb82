import { parseCli } from './cli.ts';

/**
 * `npm run bench`: checks the arguments, then runs the bench (bench/main.ts). Exits 0 if every check passed, 1 if a
 * correctness check failed, 2 on bad arguments.
 */

const options = parseCli(process.argv.slice(2));
// Loaded only once the arguments are good, so --help and a mistyped flag answer at once, not after the whole
// stack and SDK have loaded (seconds).
const { main } = await import('./main.ts');
// Exit explicitly: the handlers' SDK clients (created at module load, as in Lambda) may hold sockets open.
main(options).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('bench failed:', error);
    process.exit(1);
  },
);
