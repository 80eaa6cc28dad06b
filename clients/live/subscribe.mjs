// Subscribes through Apollo Client's GraphQLWsLink (graphql-transport-ws) and prints every result the
// gateway pushes as one JSON line on stdout, until stdin closes or the subscription completes.
//
//   node subscribe.mjs <ws-url> <api-key> <subscription document>
//
// Lines: {"ready": true} once the connection is acknowledged, {"data": …, "errors": …} per result,
// {"error": "…"} on a failure, {"complete": true} at the end.
import { ApolloClient, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, key, document] = process.argv.slice(2);
const print = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

const wsClient = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${key}` },
  retryAttempts: 0,
  on: { connected: () => print({ ready: true }) },
});
const client = new ApolloClient({ link: new GraphQLWsLink(wsClient), cache: new InMemoryCache() });

const subscription = client
  .subscribe({ query: gql(document), fetchPolicy: "no-cache" })
  .subscribe({
    next: (result) => print({ data: result.data ?? null, errors: result.error ? [String(result.error)] : undefined }),
    error: (error) => print({ error: String(error) }),
    complete: () => {
      print({ complete: true });
      process.exit(0);
    },
  });

const stop = async () => {
  subscription.unsubscribe();
  await wsClient.dispose();
  process.exit(0);
};
process.stdin.on("end", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
