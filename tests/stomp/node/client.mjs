// @stomp/stompjs, a STOMP client we did not write, against a live server; driven by
// tests/stomp/test_stompjs.py. Reads its settings as JSON from STOMP_TEST_CONFIG, prints one
// JSON object of what happened, and exits 0 (or 1 with {"error": ...}).
//
// Node 20 has no WebSocket global: the `ws` package stands in for the browser's, as it would
// for a bot. The factory also lets one client send an Authorization header on the handshake.

import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';

Object.assign(globalThis, { WebSocket });

const config = JSON.parse(process.env.STOMP_TEST_CONFIG);
const topic = `/topic/rooms.${config.room}`;
const app = `/app/rooms.${config.room}`;
const result = { heartbeatsReceived: 0, messages: { alice: [], bob: [] } };

function client(name, { connectHeaders = {}, headers = {} }) {
  const stomp = new Client({
    webSocketFactory: () => new WebSocket(config.url, stomp.stompVersions.protocolVersions(), { headers }),
    connectHeaders,
    heartbeatIncoming: 1000,
    heartbeatOutgoing: 1000,
    reconnectDelay: 0, // one connection per client: a test must see what ends it
  });
  stomp.connectedFrame = new Promise((resolve, reject) => {
    stomp.onConnect = resolve;
    stomp.onStompError = frame => reject(new Error(`${name}: ERROR ${frame.headers.message}: ${frame.body}`));
  });
  stomp.closed = new Promise(resolve => {
    stomp.onWebSocketClose = event => resolve(event.code);
  });
  return stomp;
}

function receipt(stomp, id) {
  return new Promise(resolve => stomp.watchForReceipt(id, frame => resolve(frame.headers)));
}

function nextMessages(list, count) {
  return new Promise(resolve => {
    const check = () => (list.length >= count ? resolve(list.slice(0, count)) : setTimeout(check, 20));
    check();
  });
}

function record(list) {
  return message =>
    list.push({ headers: message.headers, body: JSON.parse(message.body) });
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

async function main() {
  // alice signs in with CONNECT's login and passcode; bob with the Authorization header.
  const alice = client('alice', { connectHeaders: { login: config.alice.username, passcode: config.alice.token } });
  const bob = client('bob', { headers: { Authorization: `Bearer ${config.bob.token}` } });
  alice.onHeartbeatReceived = () => { result.heartbeatsReceived += 1; };
  alice.activate();
  bob.activate();
  const connected = await alice.connectedFrame;
  await bob.connectedFrame;
  result.connected = connected.headers;
  result.subprotocol = alice.webSocket.protocol;

  const subscribed = receipt(alice, 'sub-alice');
  alice.subscribe(topic, record(result.messages.alice), { id: 'js-alice', receipt: 'sub-alice' });
  const bobSubscribed = receipt(bob, 'sub-bob');
  bob.subscribe(topic, record(result.messages.bob), { id: 'js-bob', receipt: 'sub-bob' });
  await Promise.all([subscribed, bobSubscribed]);

  const sent = receipt(alice, 'send-1');
  alice.publish({
    destination: app,
    body: 'hello from stompjs ✨',
    headers: { 'content-type': 'text/plain', 'client-id': 'js-1', receipt: 'send-1' },
  });
  result.sendReceipt = await sent;
  bob.publish({ destination: app, body: 'hello back' });
  await nextMessages(result.messages.alice, 2);
  await nextMessages(result.messages.bob, 2);

  // Idle: the server's EOLs reach alice, and alice's keep her connection open.
  await sleep(3200);
  result.stillConnected = alice.connected;

  // A refused SEND: ERROR, then the server closes the connection.
  const refused = new Promise(resolve => {
    alice.onStompError = frame => resolve(frame.headers);
  });
  alice.publish({ destination: '/app/rooms.no-such-room', body: 'lost?', headers: { receipt: 'send-2' } });
  result.error = await refused;
  result.closeCode = await alice.closed;

  await bob.deactivate();
  result.bobCloseCode = await bob.closed;
}

const timer = setTimeout(() => fail(new Error('timed out')), 20000);

function fail(error) {
  console.log(JSON.stringify({ error: String(error), partial: result }));
  process.exit(1);
}

main().then(
  () => {
    clearTimeout(timer);
    console.log(JSON.stringify(result));
    process.exit(0);
  },
  fail,
);
