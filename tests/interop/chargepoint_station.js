// A ChargePointService station built with node-soap from an official OCPP WSDL (given as the
// first argument; the second is the OCPP version). Prints {"port": N} when listening; GET
// /received returns every request it got (operation, arguments, SOAP headers).
'use strict';
const fs = require('fs');
const http = require('http');
const soap = require('soap');

const [wsdlPath, version] = process.argv.slice(2);
const received = [];
const raw = [];

const answers = {
  CancelReservation: { status: 'Accepted' },
  ChangeAvailability: { status: 'Scheduled' },
  ChangeConfiguration: { status: 'Accepted' },
  ClearCache: { status: 'Accepted' },
  ClearChargingProfile: { status: 'Unknown' },
  DataTransfer: { status: 'Accepted', data: 'from node' },
  GetCompositeSchedule: {
    status: 'Accepted', connectorId: 1, scheduleStart: '2030-01-01T00:00:00Z',
    chargingSchedule: { chargingRateUnit: 'W', chargingSchedulePeriod: [
      { startPeriod: 0, limit: 11000.5 }, { startPeriod: 60, limit: 7400, numberPhases: 3 }] },
  },
  GetConfiguration: {
    configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' },
                       { key: 'ChargePointId', readonly: true }],
    unknownKey: ['Nope'],
  },
  GetDiagnostics: { fileName: 'node.log' },
  GetLocalListVersion: { listVersion: 4 },
  RemoteStartTransaction: { status: 'Accepted' },
  RemoteStopTransaction: { status: 'Rejected' },
  ReserveNow: { status: 'Accepted' },
  Reset: { status: 'Accepted' },
  SendLocalList: version === '1.5' ? { status: 'Accepted', hash: 'abc' } : { status: 'Accepted' },
  SetChargingProfile: { status: 'Accepted' },
  TriggerMessage: { status: 'NotImplemented' },
  UnlockConnector: { status: version === '1.5' ? 'Accepted' : 'Unlocked' },
  UpdateFirmware: {},
};

const port = {};
for (const [operation, answer] of Object.entries(answers)) {
  port[operation] = (args, callback, headers) => {
    received.push({ operation, args, headers });
    return answer;
  };
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/received') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(received.map((r, i) => ({ ...r, raw: raw[i] }))));
    return;
  }
  res.statusCode = 404;
  res.end();
});

server.listen(0, '127.0.0.1', () => {
  const service = soap.listen(server, {
    path: '/Ocpp/ChargePointService/',
    services: { ChargePointService: { ChargePointServiceSoap12: port } },
    xml: fs.readFileSync(wsdlPath, 'utf8'),
    forceSoap12Headers: true,
  });
  // the raw envelope too: node-soap drops namespaces from the headers it hands over
  service.log = (type, data) => { if (type === 'received') raw.push(String(data)); };
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
