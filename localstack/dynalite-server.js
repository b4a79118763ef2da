// Runs dynalite (a DynamoDB-compatible server on LevelDB, in memory) on one address, for the
// embedded stack. Prints "READY <port>" once listening; exits when its stdin closes, so it never
// outlives the Java process that started it. Usage: node dynalite-server.js <port> [host]
// A line "unavailable <ms>" on stdin makes it an outage for that long, its data kept: open connections are
// destroyed and every new one is reset at once until it ends ("UNAVAILABLE <ms>" printed at the start,
// "AVAILABLE" at the end). The server keeps listening: closing it would close dynalite's in-memory database.
// A client that dies in the middle of a request (a SIGKILLed function) does not stop it.
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

// dynalite rethrows an aborted request's error from the request stream ("aborted", ECONNRESET: a client that died
// or was killed while sending its body), and an uncaught throw ends node: one killed function would take the whole
// DynamoDB of the stack down. DynamoDB shrugs such a client off; so does this, and anything else still ends it.
process.on('uncaughtException', (err) => {
  if (err && err.code === 'ECONNRESET' && err.message === 'aborted') {
    console.log('a client went away in the middle of its request (ignored, as DynamoDB does)');
    return;
  }
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});

const sockets = new Set();
let unavailableUntil = 0;
server.on('connection', (socket) => {
  if (Date.now() < unavailableUntil) {
    socket.resetAndDestroy();
    return;
  }
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});

function outage(ms) {
  unavailableUntil = Date.now() + ms;
  for (const socket of sockets) {
    socket.resetAndDestroy();
  }
  console.log(`UNAVAILABLE ${ms}`);
  setTimeout(() => console.log('AVAILABLE'), ms);
}

const lines = require('readline').createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const match = /^unavailable (\d+)$/.exec(line.trim());
  if (match) {
    outage(parseInt(match[1], 10));
  }
});
lines.on('close', () => server.close(() => process.exit(0)));
process.stdin.on('error', () => process.exit(0));
