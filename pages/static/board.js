/* The festival live board: numbers from the campaignProgress subscription, the
 * campaign's latest (masked) donations from /board/{id}/recent.json, refreshed on each
 * emission. Amounts stay Decimal strings; only the bar's width uses Number. Figures
 * shrink to fit their box, so a long amount is never cut off. */
(function () {
  "use strict";

  var root = document.getElementById("board");
  var campaignId = root.dataset.campaignId;
  var goal = root.dataset.goal;
  var recentCount = Number(root.dataset.recent) || 8;
  var timeZone = root.dataset.tz || "Asia/Shanghai";

  var PROGRESS = "subscription($id: ID!) { campaignProgress(campaignId: $id) {" +
    " online { amount } offline { amount } inKind { amount } total { amount } donationCount } }";
  var CHANNELS = { ONLINE: "线上", CASH: "现金", CHARITY_SALE: "义卖", BANK_TRANSFER: "银行转账", IN_KIND: "物资" };
  var STATUS = { connecting: "连接中", live: "实时", reconnecting: "重新连接中" };

  /* "1234567.5" -> "1,234,567.50" by string work alone, so no fen is lost to floats. */
  function yuan(amount) {
    var s = String(amount);
    var negative = s.charAt(0) === "-";
    if (negative) s = s.slice(1);
    var parts = s.split(".");
    var whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var frac = ((parts[1] || "") + "00").slice(0, 2);
    return (negative ? "-" : "") + whole + "." + frac;
  }

  function setText(id, text) {
    var el = document.getElementById(id);
    if (el && el.textContent !== text) {
      el.textContent = text;
      el.classList.remove("bump");
      void el.offsetWidth; // restart the highlight animation
      el.classList.add("bump");
    }
    return el;
  }

  /* Shrinks each [data-fit] figure until it fits its box: the CSS size is the most it
   * may have, and a long amount gets a smaller font rather than an ellipsis. */
  function fit() {
    document.querySelectorAll("[data-fit]").forEach(function (el) {
      el.style.fontSize = "";
      for (var i = 0; i < 4 && el.scrollWidth > el.clientWidth; i++) {
        var size = parseFloat(getComputedStyle(el).fontSize);
        el.style.fontSize = Math.floor(size * el.clientWidth / el.scrollWidth * 0.98 * 10) / 10 + "px";
      }
    });
  }

  var lastCount = null;

  function showProgress(p) {
    var total = setText("total", yuan(p.total.amount));
    total.dataset.amount = p.total.amount;
    setText("online", yuan(p.online.amount));
    setText("offline", yuan(p.offline.amount));
    setText("in-kind", yuan(p.inKind.amount));
    setText("count", String(p.donationCount));
    if (goal && Number(goal) > 0) {
      var ratio = Math.min(Number(p.total.amount) / Number(goal), 1);
      document.getElementById("bar-fill").style.width = (ratio * 100).toFixed(2) + "%";
      document.querySelector(".bar").setAttribute("aria-valuenow", (ratio * 100).toFixed(1));
      // The percentage may pass 100 when the goal is beaten; the bar stays full.
      document.getElementById("percent").textContent =
        (Number(p.total.amount) / Number(goal) * 100).toFixed(1) + "%";
    }
    fit();
    if (p.donationCount !== lastCount) {
      lastCount = p.donationCount;
      refreshRecent();
    }
  }

  var clock = new Intl.DateTimeFormat("zh-CN", { timeZone: timeZone, hour: "2-digit", minute: "2-digit", hour12: false });

  function showRecent(list) {
    var ol = document.getElementById("recent");
    var items = list.map(function (d) {
      var li = document.createElement("li");
      [["who", d.donorName], ["how", CHANNELS[d.channel] || d.channel], ["amt", "¥" + yuan(d.amount.amount)]]
        .forEach(function (pair) {
          var span = document.createElement("span");
          span.className = pair[0];
          span.textContent = pair[1];
          li.appendChild(span);
        });
      li.title = clock.format(new Date(d.receivedAt));
      return li;
    });
    if (!items.length) {
      var empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = "等待第一笔爱心";
      items.push(empty);
    }
    ol.replaceChildren.apply(ol, items);
  }

  // One request in flight at a time; an emission meanwhile asks for one more after it,
  // so the list always ends up showing the latest gift.
  var pending = false;
  var again = false;
  function refreshRecent() {
    if (pending) {
      again = true;
      return;
    }
    pending = true;
    fetch("/board/" + encodeURIComponent(campaignId) + "/recent.json", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.recentDonations) showRecent(body.recentDonations.slice(0, recentCount));
      })
      .catch(function () { /* the server is away; the first emission after reconnecting retries */ })
      .then(function () {
        pending = false;
        if (again) {
          again = false;
          refreshRecent();
        }
      });
  }

  var live = document.getElementById("live");
  function onStatus(state) {
    live.dataset.state = state;
    live.textContent = STATUS[state] || state;
  }

  // A subscription ends when a read of the progress fails (the database away a moment)
  // while the socket stays up: say so, and subscribe again after a growing pause, as
  // the socket itself reconnects. The first emission brings the board up to date.
  var unsubscribe = null;
  var retryTimer = null;
  var retryDelay = 0;

  function failed() {
    onStatus("error");
    live.textContent = "数据暂不可用";
    if (retryTimer) return;
    if (unsubscribe) unsubscribe(); // a failed emission may come before the end
    retryDelay = Math.min(30000, retryDelay ? retryDelay * 2 : 1000);
    retryTimer = setTimeout(subscribe, retryDelay / 2 + Math.random() * (retryDelay / 2));
  }

  function subscribe() {
    retryTimer = null;
    unsubscribe = client.subscribe({ query: PROGRESS, variables: { id: campaignId } }, {
      next: function (result) {
        if (!(result.data && result.data.campaignProgress)) return failed();
        retryDelay = 0;
        if (live.dataset.state === "error") onStatus("live");
        showProgress(result.data.campaignProgress);
      },
      error: failed,
      complete: failed
    });
  }

  // The server renders the bar's width as data: the pages' CSP allows no inline style.
  var fill = document.getElementById("bar-fill");
  fill.style.width = fill.dataset.width + "%";
  fit();
  window.addEventListener("resize", fit);
  if (document.fonts) document.fonts.ready.then(fit);

  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var client = new window.GraphQLWsClient(scheme + location.host + "/graphql", { onStatus: onStatus });
  // Seed from the server-rendered count so the first emission does not refetch needlessly.
  var rendered = document.getElementById("count").textContent;
  if (/^\d+$/.test(rendered)) lastCount = Number(rendered);
  subscribe();
})();
