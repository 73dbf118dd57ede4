// Starts the telegram-test-api emulator on 127.0.0.1 (port from argv) and prints
// {"port": N} once it listens. Stopped by SIGTERM / SIGINT.
const TelegramServer = require('telegram-test-api');

const server = new TelegramServer({ port: Number(process.argv[2]), host: '127.0.0.1', storeTimeout: 600 });
server.start().then(() => {
  process.stdout.write(`${JSON.stringify({ port: server.server.address().port })}\n`);
});
const stop = () => server.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('unhandledRejection', (err) => { process.stderr.write(`emulator: ${err}\n`); });
