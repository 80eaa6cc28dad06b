/* GraphiQL's editors kept in the page's address, so a query can be shared as a link.
 *
 * The gateway serves the page to a browser opening /graphql?query=…&variables=…&operationName=…; this
 * script reads those parameters into the editors, and writes every edit back with history.replaceState
 * (no history entry per keystroke, nothing sent to the server). Headers never go into the address: they
 * may hold an API key.
 *
 * Plain script, no build step: EventsGatewayShareableUrl.fromLocation() returns the GraphiQL props.
 */
(function () {
  "use strict";

  var PARAMETERS = ["query", "variables", "operationName"];

  function fromLocation() {
    var search = new URLSearchParams(window.location.search);
    var state = {};
    PARAMETERS.forEach(function (name) {
      var value = search.get(name);
      if (value !== null) {
        state[name] = value;
      }
    });

    function write() {
      var next = new URLSearchParams(window.location.search); // parameters of others are kept
      PARAMETERS.forEach(function (name) {
        if (state[name]) {
          next.set(name, state[name]);
        } else {
          next.delete(name);
        }
      });
      var text = next.toString();
      var url = window.location.pathname + (text ? "?" + text : "") + window.location.hash;
      window.history.replaceState(window.history.state, "", url);
    }

    function onEdit(name) {
      return function (value) {
        if (state[name] === value) {
          return;
        }
        state[name] = value;
        write();
      };
    }

    return {
      query: state.query,
      variables: state.variables,
      operationName: state.operationName,
      onEditQuery: onEdit("query"),
      onEditVariables: onEdit("variables"),
      onEditOperationName: onEdit("operationName"),
    };
  }

  window.EventsGatewayShareableUrl = { fromLocation: fromLocation };
})();
