// Answers whether a Kafka broker is serving: sends one ApiVersions (v0) request and checks the
// error code of the reply. Dependency-free on purpose: stack.sh runs it before `npm ci` has
// installed anything. Usage: node stack/kafka-ping.mjs host:port [timeoutMs]; exit 0 = serving.
import net from 'node:net';

const [hostPort = '127.0.0.1:9092', timeoutArg = '3000'] = process.argv.slice(2);
const [host, port] = hostPort.split(':');
const clientId = Buffer.from('stack-ping');
const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
body.writeInt16BE(18, 0); // api key: ApiVersions
body.writeInt16BE(0, 2); // api version 0: every broker since 0.10 answers it
body.writeInt32BE(1, 4); // correlation id
body.writeInt16BE(clientId.length, 8);
clientId.copy(body, 10);
const size = Buffer.alloc(4);
size.writeInt32BE(body.length, 0);

const socket = net.connect({ host, port: Number(port) });
const fail = (why) => {
  process.stderr.write(`kafka-ping ${hostPort}: ${why}\n`);
  socket.destroy();
  process.exit(1);
};
socket.setTimeout(Number(timeoutArg), () => fail('no answer in time'));
socket.on('error', (err) => fail(err.code ?? err.message));
socket.on('connect', () => socket.write(Buffer.concat([size, body])));
let reply = Buffer.alloc(0);
socket.on('data', (chunk) => {
  reply = Buffer.concat([reply, chunk]);
  if (reply.length < 10) return;
  const errorCode = reply.readInt16BE(8);
  socket.destroy();
  if (errorCode !== 0) fail(`ApiVersions error code ${errorCode}`);
  process.exit(0);
});
