// A charge point built with node-soap from an official OCPP CentralSystemService WSDL: it runs
// one whole session against a central system and prints what it got as JSON.
//
//   node centralsystem_client.js WSDL VERSION ENDPOINT IDENTITY IDTAG FROM_ADDRESS
//
// Output: {"results": {step: answer}, "requests": [raw envelope], "contentTypes": [...]}.
'use strict';
const crypto = require('crypto');
const soap = require('soap');

const [wsdlPath, version, endpoint, identity, idTag, fromAddress] = process.argv.slice(2);
const CS = version === '1.5' ? 'urn://Ocpp/Cs/2012/06/' : 'urn://Ocpp/Cs/2015/10/';
const WSA = 'http://www.w3.org/2005/08/addressing';

// one reading: 1.5 `value` (text with attributes), 1.6 `sampledValue` (elements)
function reading(value, measurand, unit15, unit16, context) {
  if (version === '1.5') {
    return { attributes: { context, format: 'Raw', measurand, location: 'Outlet', unit: unit15 },
             $value: value };
  }
  return { value, context, format: 'Raw', measurand, location: 'Outlet', unit: unit16 };
}

function meterValue(timestamp, readings) {
  return version === '1.5' ? { timestamp, value: readings } : { timestamp, sampledValue: readings };
}

async function main() {
  const client = await soap.createClientAsync(wsdlPath, { forceSoap12Headers: true });
  client.setEndpoint(endpoint);
  const escape = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  client.addSoapHeader(`<cs:chargeBoxIdentity xmlns:cs="${CS}">${escape(identity)}</cs:chargeBoxIdentity>`);
  // WS-Addressing, per request: node-soap calls header functions with the soapAction
  client.addSoapHeader((method, location, soapAction) =>
    `<wsa:Action xmlns:wsa="${WSA}">${soapAction}</wsa:Action>` +
    `<wsa:MessageID xmlns:wsa="${WSA}">urn:uuid:${crypto.randomUUID()}</wsa:MessageID>` +
    `<wsa:To xmlns:wsa="${WSA}">${escape(location)}</wsa:To>` +
    `<wsa:From xmlns:wsa="${WSA}"><wsa:Address>${escape(fromAddress)}</wsa:Address></wsa:From>`);

  const results = {};
  const requests = [];
  const contentTypes = [];
  async function send(step, operation, args) {
    const [result] = await client[`${operation}Async`](args);
    requests.push(client.lastRequest);
    contentTypes.push((client.lastRequestHeaders || {})['Content-Type'] || null);
    results[step] = result === undefined ? null : result;
    return result;
  }

  await send('BootNotification', 'BootNotification', {
    chargePointVendor: 'NodeSoap', chargePointModel: `CP-${version}`,
    chargePointSerialNumber: 'NS-1', firmwareVersion: '0.9.0',
  });
  await send('Heartbeat', 'Heartbeat', {});
  await send('StatusNotification', 'StatusNotification', {
    connectorId: 1, status: 'Available', errorCode: 'NoError', info: 'node ready',
    timestamp: '2026-03-01T09:59:00Z',
  });
  await send('Authorize', 'Authorize', { idTag });
  const start = await send('StartTransaction', 'StartTransaction', {
    connectorId: 1, idTag, timestamp: '2026-03-01T10:00:00Z', meterStart: 1000,
  });
  const transactionId = start.transactionId;
  const values = [meterValue('2026-03-01T10:15:00Z', [
    reading('2500', 'Energy.Active.Import.Register', 'Wh', 'Wh', 'Sample.Periodic'),
    reading('16.2', 'Current.Import', 'Amp', 'A', 'Sample.Periodic')])];
  await send('MeterValues', 'MeterValues', version === '1.5'
    ? { connectorId: 1, transactionId, values }
    : { connectorId: 1, transactionId, meterValue: values });
  const end = meterValue('2026-03-01T11:00:00Z', [
    reading('6000', 'Energy.Active.Import.Register', 'Wh', 'Wh', 'Transaction.End')]);
  await send('StopTransaction', 'StopTransaction', {
    transactionId, idTag, timestamp: '2026-03-01T11:00:00Z', meterStop: 6000,
    ...(version === '1.6' ? { reason: 'Local' } : {}),
    transactionData: version === '1.5' ? [{ values: [end] }] : [end],
  });
  await send('DataTransfer', 'DataTransfer', {
    vendorId: 'org.nodesoap', messageId: 'Hello', data: '{"from": "node"}',
  });
  await send('FirmwareStatusNotification', 'FirmwareStatusNotification', { status: 'Installed' });
  await send('DiagnosticsStatusNotification', 'DiagnosticsStatusNotification',
             { status: 'Uploaded' });
  process.stdout.write(JSON.stringify({ results, requests, contentTypes }) + '\n');
}

main().catch((error) => {
  const body = error.response && error.body ? `\n${error.body}` : '';
  process.stderr.write(`${error.stack || error}${body}\n`);
  process.exit(1);
});
