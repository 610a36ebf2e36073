// Starts GraphiQL on /api/graphql. A file of its own, not an inline script, so the page's
// Content-Security-Policy can allow scripts from this origin only.
"use strict";

(function () {
  var root = document.getElementById("graphiql");
  var fetcher = GraphiQL.createFetcher({ url: root.getAttribute("data-endpoint") });
  ReactDOM.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      isHeadersEditorEnabled: true,
      // Tokens are not kept in the browser's storage between visits.
      shouldPersistHeaders: false,
      defaultHeaders: '{"Authorization": "Bearer <accessToken from POST /api/auth/login>"}',
      defaultQuery:
        "# The caller and their ledgers; put your token in the Headers tab below.\n" +
        "{\n  me { id name email }\n  ledgers { id name currency role }\n}\n",
    }),
    root
  );
})();
