/* A small graphql-transport-ws client: no dependencies, no build step.
 *
 * One socket carries every subscription. When the socket drops (server restart,
 * network blip) it reconnects by itself with exponential backoff and jitter, and
 * re-sends every live subscription: the server's first emission brings the
 * screen up to date with whatever happened while it was away.
 */
(function (global) {
  "use strict";

  var PROTOCOL = "graphql-transport-ws";
  var decoder = new TextDecoder("utf-8");

  function GraphQLWsClient(url, options) {
    options = options || {};
    this.url = url;
    this.minDelay = options.minDelay || 250;
    this.maxDelay = options.maxDelay || 8000;
    // The server pings every 15 s; silence for longer than this means a dead link.
    this.idleTimeout = options.idleTimeout || 40000;
    this.onStatus = options.onStatus || function () {};
    this.subs = {};
    this.nextId = 1;
    this.attempt = 0;
    this.socket = null;
    this.acked = false;
    this.closed = false;
    this.retryTimer = null;
    this.idleTimer = null;
    this.connect();
  }

  GraphQLWsClient.prototype.connect = function () {
    var self = this;
    if (self.closed) return;
    self.acked = false;
    self.onStatus(self.attempt ? "reconnecting" : "connecting");
    var socket;
    try {
      socket = new WebSocket(self.url, PROTOCOL);
    } catch (err) {
      self.scheduleReconnect();
      return;
    }
    self.socket = socket;
    // This server sends its frames as binary (UTF-8 JSON bytes), not text: accept both.
    socket.binaryType = "arraybuffer";
    socket.onopen = function () {
      self.send({ type: "connection_init", payload: {} });
      self.touch();
    };
    socket.onmessage = function (event) {
      self.touch();
      var msg;
      try {
        var raw = typeof event.data === "string" ? event.data : decoder.decode(event.data);
        msg = JSON.parse(raw);
      } catch (err) {
        socket.close(4400, "invalid message");
        return;
      }
      self.handle(msg);
    };
    socket.onclose = function () {
      if (self.socket !== socket) return;
      self.socket = null;
      self.acked = false;
      clearTimeout(self.idleTimer);
      self.scheduleReconnect();
    };
    // Errors are always followed by close, where reconnecting happens.
    socket.onerror = function () {};
  };

  GraphQLWsClient.prototype.handle = function (msg) {
    var sub = msg.id !== undefined ? this.subs[msg.id] : null;
    switch (msg.type) {
      case "connection_ack":
        this.acked = true;
        this.attempt = 0;
        this.onStatus("live");
        for (var id in this.subs) this.start(id);
        break;
      case "ping":
        this.send({ type: "pong" });
        break;
      case "pong":
        break;
      case "next":
        if (sub && sub.sink.next) sub.sink.next(msg.payload);
        break;
      case "error":
        // A refused operation will be refused again: drop it rather than retry.
        if (sub) {
          delete this.subs[msg.id];
          if (sub.sink.error) sub.sink.error(msg.payload);
        }
        break;
      case "complete":
        if (sub) {
          delete this.subs[msg.id];
          if (sub.sink.complete) sub.sink.complete();
        }
        break;
      default:
        break;
    }
  };

  GraphQLWsClient.prototype.send = function (msg) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(msg));
    }
  };

  GraphQLWsClient.prototype.start = function (id) {
    var sub = this.subs[id];
    if (sub && this.acked) {
      this.send({ id: id, type: "subscribe", payload: sub.payload });
    }
  };

  GraphQLWsClient.prototype.touch = function () {
    var self = this;
    clearTimeout(self.idleTimer);
    self.idleTimer = setTimeout(function () {
      if (self.socket) self.socket.close(4408, "idle");
    }, self.idleTimeout);
  };

  GraphQLWsClient.prototype.scheduleReconnect = function () {
    var self = this;
    if (self.closed || self.retryTimer) return;
    var base = Math.min(self.maxDelay, self.minDelay * Math.pow(2, self.attempt));
    var delay = base / 2 + Math.random() * (base / 2);
    self.attempt += 1;
    self.onStatus("reconnecting");
    self.retryTimer = setTimeout(function () {
      self.retryTimer = null;
      self.connect();
    }, delay);
  };

  /* subscribe({query, variables}, {next, error, complete}) -> unsubscribe() */
  GraphQLWsClient.prototype.subscribe = function (payload, sink) {
    var self = this;
    var id = String(self.nextId++);
    self.subs[id] = { payload: payload, sink: sink || {} };
    self.start(id);
    return function unsubscribe() {
      if (self.subs[id]) {
        delete self.subs[id];
        self.send({ id: id, type: "complete" });
      }
    };
  };

  GraphQLWsClient.prototype.close = function () {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.idleTimer);
    if (this.socket) this.socket.close(1000, "bye");
  };

  global.GraphQLWsClient = GraphQLWsClient;
})(window);
