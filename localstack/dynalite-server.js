// Runs dynalite (a DynamoDB-compatible server on LevelDB, in memory) on one address, for the
// embedded stack. Prints "READY <port>" once listening; exits when its stdin closes, so it never
// outlives the Java process that started it. Usage: node dynalite-server.js <port> [host]
'use strict';
const dynalite = require('dynalite');

const port = parseInt(process.argv[2] || '4567', 10);
const host = process.argv[3] || '127.0.0.1';
// Tables become ACTIVE at once instead of after dynalite's default 500 ms.
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });

server.listen(port, host, (err) => {
  if (err) {
    console.error(`dynalite failed to listen on ${host}:${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(`READY ${server.address().port}`);
});
server.on('error', (err) => {
  console.error(`dynalite error: ${err.message}`);
  process.exit(1);
});

process.stdin.resume();
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.on('error', () => process.exit(0));
