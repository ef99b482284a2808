/* GraphiQL from this server's own files, with a sign-in helper: log in as a demo user and
 * the Authorization header is set, in the headers editor (HTTP) and in the WebSocket's
 * connection_init (subscriptions). The token lives in this tab's sessionStorage only. */
(function () {
  "use strict";

  var KEY = "jinlin.ide.token";
  var USER = "jinlin.ide.user";
  var LOGIN = "mutation Login($u: String!, $p: String!) {" +
    " login(input: { username: $u, password: $p }) { token errors { code message } } }";
  var DEFAULT_QUERY = [
    "# 近邻 Jinlin. Sign in above as a demo user (make run printed the passwords),",
    "# then Ctrl-Enter runs the operation.",
    "query Fund {",
    "  fundByCode(code: \"ETGY\") {",
    "    name host",
    "    campaigns(first: 5) { edges { node { id name progress { total { amount } donationCount } } } }",
    "  }",
    "}",
    ""
  ].join("\n");

  var url = location.origin + "/graphql";
  var wsUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql";
  var token = sessionStorage.getItem(KEY);
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  var fetcher = null;

  function bearer() { return token ? "Bearer " + token : null; }

  function render() {
    // A new fetcher when the token changes: the WebSocket sends it in connection_init.
    fetcher = GraphiQL.createFetcher({
      url: url,
      subscriptionUrl: wsUrl,
      wsConnectionParams: token ? { Authorization: bearer() } : {}
    });
    root.render(React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      headers: token ? JSON.stringify({ Authorization: bearer() }, null, 2) : "",
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: "headers"
    }));
  }

  var form = document.getElementById("signin");
  var status = document.getElementById("signin-status");
  var out = document.getElementById("signin-out");

  function showSignedIn() {
    var who = sessionStorage.getItem(USER);
    status.textContent = token ? "已登录：" + who + "（Authorization 已设置）" : "未登录：以匿名身份查询";
    status.dataset.state = token ? "signed-in" : "anonymous";
    out.hidden = !token;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var username = document.getElementById("signin-user").value;
    var password = document.getElementById("signin-password").value;
    status.textContent = "登录中…";
    fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: LOGIN, variables: { u: username, p: password } })
    })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        var login = body.data && body.data.login;
        if (!login || !login.token) {
          var error = (login && login.errors[0]) || (body.errors && body.errors[0]) || {};
          status.textContent = "登录失败：" + (error.code || (error.extensions || {}).code || "") +
            " " + (error.message || "");
          status.dataset.state = "failed";
          return;
        }
        token = login.token;
        sessionStorage.setItem(KEY, token);
        sessionStorage.setItem(USER, username);
        document.getElementById("signin-password").value = "";
        showSignedIn();
        render();
      })
      .catch(function () {
        status.textContent = "登录失败：服务器无应答";
        status.dataset.state = "failed";
      });
  });

  out.addEventListener("click", function () {
    token = null;
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(USER);
    showSignedIn();
    render();
  });

  showSignedIn();
  render();
})();
