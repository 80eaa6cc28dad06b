/* GraphiQL's "Upstream calls" panel: the REST calls the last response cost, as bars on a time axis.
 *
 * A request sent with the header X-Upstream-Plan: 1 is answered, when the gateway allows it
 * (EVENTS_GATEWAY_UPSTREAM_PLAN), with
 *
 *   extensions.upstream = {calls: [{route, status, ms, startMs, round, batchSize?, cache?, ageMs?}, …],
 *                          totalCalls, rounds, totalMs, wallMs, failedCalls, cacheHits?, operationCache?}
 *
 * A call with `cache` was answered by the gateway's cache (round 0: it waited for no round trip); a plan
 * with `operationCache` is that of an answer served whole from the cache, without any call.
 * (docs/observability.md). create() gives GraphiQL a fetcher that asks for that plan and keeps the last
 * one, and a plugin (GraphiQL 3's {title, icon, content}) that draws it: one bar per call, placed by its
 * start and length on the response's time axis, grouped by round, with the totals above. When the gateway
 * does not allow the plan, the panel says how to turn it on.
 *
 * Plain script, no build step: React.createElement on the React and GraphiQL the page already loads.
 */
(function () {
  "use strict";

  var h = React.createElement;
  var TITLE = "Upstream calls";
  var INTROSPECTION = "IntrospectionQuery";

  /* The last response's plan, and the panels showing it (React's useSyncExternalStore contract). */
  function createStore() {
    var snapshot = { state: "idle" };
    var listeners = new Set();
    return {
      get: function () {
        return snapshot;
      },
      set: function (next) {
        snapshot = next;
        listeners.forEach(function (listener) {
          listener();
        });
      },
      subscribe: function (listener) {
        listeners.add(listener);
        return function () {
          listeners.delete(listener);
        };
      },
    };
  }

  /* extensions.upstream of a response, or null when it has none (or not of the expected shape). */
  function planOf(payload) {
    var plan = payload && payload.extensions && payload.extensions.upstream;
    return plan && Array.isArray(plan.calls) ? plan : null;
  }

  /* GraphiQL's own fetcher, asking for the plan when allowed and noting each response's plan.
   * The gateway never answers in parts (no @defer or @stream), so the one-response fetcher suffices. */
  function createFetcher(endpoint, options, store) {
    var headers = { accept: "application/json" };
    if (options.available) {
      headers[options.header] = "1";
    }
    var base = GraphiQL.createFetcher({ url: endpoint, headers: headers, enableIncrementalDelivery: false });
    var runs = 0;
    return function fetcher(params, fetcherOptions) {
      var result = base(params, fetcherOptions);
      if (params.operationName === INTROSPECTION) {
        return result; // GraphiQL reading the schema, not a query of the user's
      }
      var run = ++runs;
      var operationName = params.operationName || null;
      store.set({ state: "running", operationName: operationName });
      Promise.resolve(result).then(
        function (payload) {
          if (run === runs) {
            store.set({ state: "done", operationName: operationName, plan: planOf(payload) });
          }
        },
        function (error) {
          if (run === runs) {
            store.set({ state: "failed", operationName: operationName, message: String((error && error.message) || error) });
          }
        }
      );
      return result;
    };
  }

  function number(value, digits) {
    return typeof value === "number" && isFinite(value) ? value.toFixed(digits) : "–";
  }

  function plural(count, one, many) {
    return count + " " + (count === 1 ? one : many);
  }

  function failed(call) {
    return call.status === null || call.status === undefined || call.status >= 400;
  }

  function Icon(props) {
    return h(
      "svg",
      Object.assign({ viewBox: "0 0 24 24", fill: "none", stroke: "currentColor", strokeWidth: 2.5, strokeLinecap: "round" }, props),
      h("path", { d: "M3 5h7" }),
      h("path", { d: "M8 10h6" }),
      h("path", { d: "M8 15h9" }),
      h("path", { d: "M15 20h6" })
    );
  }

  function Message(props) {
    return h("p", { className: "eg-plan-message" }, props.children);
  }

  function Off(props) {
    return h(
      "div",
      { className: "eg-plan-off" },
      h(Message, null, "This gateway does not send call plans, so the REST calls of a query cannot be shown here."),
      h(
        Message,
        null,
        "To see them, restart the gateway with ",
        h("code", null, props.setting + "=on"),
        " (the default, ",
        h("code", null, "auto"),
        ", turns it on only with the embedded emulator). Any caller may then ask for the upstream's routes and timings with the ",
        h("code", null, props.header + ": 1"),
        " header, so keep it off on a gateway others can reach."
      )
    );
  }

  function Totals(props) {
    var plan = props.plan;
    var items = [
      ["calls", plan.totalCalls],
      ["rounds", plan.rounds],
      ["wall ms", number(plan.wallMs, 1)],
      ["ms in calls", number(plan.totalMs, 1)],
    ];
    if (plan.failedCalls) {
      items.push(["failed", plan.failedCalls]);
    }
    if (typeof plan.cacheHits === "number") {
      items.push(["cache hits", plan.cacheHits]);
    }
    return h(
      "dl",
      { className: "eg-plan-totals" },
      items.map(function (item) {
        return h("div", { key: item[0], "data-total": item[0] }, h("dt", null, item[0]), h("dd", null, String(item[1])));
      })
    );
  }

  function Axis(props) {
    var ticks = [0, 0.25, 0.5, 0.75, 1];
    return h(
      "div",
      { className: "eg-plan-axis", "aria-hidden": "true" },
      ticks.map(function (tick) {
        return h("span", { key: tick, style: { left: tick * 100 + "%" } }, number(tick * props.scale, props.scale < 10 ? 1 : 0));
      })
    );
  }

  function Call(props) {
    var call = props.call;
    var scale = props.scale;
    var status = call.status === null || call.status === undefined ? "no answer" : String(call.status);
    var details = [status, number(call.ms, 1) + " ms"];
    if (typeof call.batchSize === "number") {
      details.push("batch " + call.batchSize);
    }
    if (call.cache) {
      details.push("from the cache (" + call.cache.replace(/_/g, " ") + ", " + number((call.ageMs || 0) / 1000, 1) + " s old)");
    }
    var left = Math.min(100, Math.max(0, (call.startMs / scale) * 100));
    var width = Math.min(100 - left, Math.max(0.5, (call.ms / scale) * 100));
    return h(
      "li",
      {
        className: "eg-plan-call" + (failed(call) ? " eg-plan-failed" : "") + (call.cache ? " eg-plan-cached" : ""),
        title: call.route + " · " + details.join(" · ") + " · starts at " + number(call.startMs, 1) + " ms",
      },
      h("div", { className: "eg-plan-label" }, h("span", { className: "eg-plan-route" }, call.route), h("span", { className: "eg-plan-details" }, details.join(" · "))),
      h("div", { className: "eg-plan-track" }, h("div", { className: "eg-plan-bar", style: { left: left + "%", width: width + "%" } }))
    );
  }

  function Rounds(props) {
    var calls = props.plan.calls;
    var scale = Math.max(
      props.plan.wallMs || 0,
      calls.reduce(function (end, call) {
        return Math.max(end, (call.startMs || 0) + (call.ms || 0));
      }, 0)
    ) || 1;
    var rounds = new Map();
    calls.forEach(function (call) {
      var round = typeof call.round === "number" ? call.round : 0;
      if (!rounds.has(round)) {
        rounds.set(round, []);
      }
      rounds.get(round).push(call);
    });
    var numbers = Array.from(rounds.keys()).sort(function (a, b) {
      return a - b;
    });
    return h(
      "div",
      { className: "eg-plan-chart" },
      h(Axis, { scale: scale }),
      numbers.map(function (round) {
        var inRound = rounds.get(round);
        return h(
          "section",
          { key: round, className: "eg-plan-round", "data-round": round },
          h("h3", null, round === 0 ? "From the cache" : "Round " + round, h("span", null, plural(inRound.length, "call", "calls"))),
          h(
            "ol",
            null,
            inRound.map(function (call, index) {
              return h(Call, { key: index, call: call, scale: scale });
            })
          )
        );
      })
    );
  }

  function Body(props) {
    var last = props.last;
    if (last.state === "idle") {
      return h(Message, null, "Run a query (Ctrl-Enter) to see the REST calls it makes: one bar per call, on the time axis of the response, grouped by round.");
    }
    if (last.state === "running") {
      return h(Message, null, "Waiting for the response…");
    }
    if (last.state === "failed") {
      return h(Message, null, "The request failed: " + last.message);
    }
    if (!last.plan) {
      return h(Message, null, "The last response carried no call plan: the request was refused before it ran (see the response).");
    }
    var whole = last.plan.operationCache;
    var empty = whole
      ? "The whole answer came from the gateway's cache (" + String(whole.status).replace(/_/g, " ") + ", " + number((whole.ageMs || 0) / 1000, 1) + " s old): nothing was executed and no call was made."
      : "This response needed no upstream call.";
    return h(
      React.Fragment,
      null,
      h(Totals, { plan: last.plan }),
      last.plan.calls.length ? h(Rounds, { plan: last.plan }) : h(Message, null, empty)
    );
  }

  function create(endpoint, options) {
    var store = createStore();
    var settings = options || { available: false, header: "X-Upstream-Plan", setting: "EVENTS_GATEWAY_UPSTREAM_PLAN" };

    function Panel() {
      var last = React.useSyncExternalStore(store.subscribe, store.get);
      var operation = last.operationName ? h("span", { className: "eg-plan-operation" }, last.operationName) : null;
      return h(
        "div",
        { className: "eg-plan", "data-plan-state": settings.available ? last.state : "off" },
        h("div", { className: "graphiql-doc-explorer-title" }, TITLE),
        operation,
        settings.available ? h(Body, { last: last }) : h(Off, settings)
      );
    }

    return {
      fetcher: createFetcher(endpoint, settings, store),
      plugin: { title: TITLE, icon: Icon, content: Panel },
    };
  }

  window.EventsGatewayCallPlan = { create: create };
})();
