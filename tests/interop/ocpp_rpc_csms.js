// An OCPP-J 1.6 central system built with ocpp-rpc in strict mode: every frame in and out is
// validated against the OCPP 1.6 JSON schemas, and each violation is reported.
//
//   node ocpp_rpc_csms.js [PASSWORD]
//
// Prints JSON lines on stdout: {"event":"listening","port":N} first, then "connect", "call"
// (a station's CALL: identity, method, params), "violation" (strict-mode failures), "result"
// (the answer to a command). Reads commands from stdin, one JSON line each:
// {"id": 1, "identity": "CP-1", "method": "GetConfiguration", "params": {}}.
'use strict';
const readline = require('readline');
const { RPCServer } = require('ocpp-rpc');

const password = process.argv[2];
const clients = new Map();
let transactionId = 7000;
const out = (event) => process.stdout.write(JSON.stringify(event) + '\n');
const now = () => new Date().toISOString();

const answers = {
  BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: 66 }),
  Heartbeat: () => ({ currentTime: now() }),
  Authorize: () => ({ idTagInfo: { status: 'Accepted' } }),
  StartTransaction: () => ({ transactionId: ++transactionId, idTagInfo: { status: 'Accepted' } }),
  StopTransaction: () => ({}),
  MeterValues: () => ({}),
  StatusNotification: () => ({}),
  FirmwareStatusNotification: () => ({}),
  DiagnosticsStatusNotification: () => ({}),
  DataTransfer: () => ({ status: 'Accepted', data: 'from ocpp-rpc' }),
};

async function main() {
  const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
  server.auth((accept, reject, handshake) => {
    if (password !== undefined &&
        (!handshake.password || handshake.password.toString() !== password)) {
      out({ event: 'refused', identity: handshake.identity });
      reject(401);
      return;
    }
    accept();
  });
  server.on('client', (client) => {
    clients.set(client.identity, client);
    out({ event: 'connect', identity: client.identity, protocol: client.protocol });
    client.on('strictValidationFailure', (failure) => out({
      event: 'violation', identity: client.identity, method: failure.method,
      outbound: failure.outbound, isCall: failure.isCall,
      error: String(failure.error && failure.error.message) }));
    client.on('close', () => out({ event: 'close', identity: client.identity }));
    client.handle(({ method, params }) => {
      out({ event: 'call', identity: client.identity, method, params });
      return answers[method]();
    });
  });
  const http = await server.listen(0, '127.0.0.1');
  out({ event: 'listening', port: http.address().port });

  const input = readline.createInterface({ input: process.stdin });
  input.on('line', async (line) => {
    const command = JSON.parse(line);
    const client = clients.get(command.identity);
    try {
      const result = await client.call(command.method, command.params);
      out({ event: 'result', id: command.id, result });
    } catch (error) {
      out({ event: 'result', id: command.id, error: { code: error.rpcErrorCode,
                                                      message: error.message } });
    }
  });
  input.on('close', () => process.exit(0));
}

main().catch((error) => { console.error(error); process.exit(1); });
