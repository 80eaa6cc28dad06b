// Runs operations through Apollo Client 3 against a gateway, with its default headers (Accept: */*).
// Usage: GATEWAY_URL=http://…/graphql GATEWAY_KEY=… node apollo/run.js <mode> <category id> <event id>
//   batch:    the three operations below through BatchHttpLink, sent together
//   separate: the same three through HttpLink, one request each
//   invalid:  one operation that fails validation, through HttpLink
// Prints the results, the errors and the HTTP requests made, as JSON.
import { ApolloClient, ApolloError, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { BatchHttpLink } from "@apollo/client/link/batch-http/index.js";

const [mode, categoryId, eventId] = process.argv.slice(2);
let httpRequests = 0;
const options = {
  uri: process.env.GATEWAY_URL,
  headers: { Authorization: `Bearer ${process.env.GATEWAY_KEY}` },
  fetch: (...args) => {
    httpRequests += 1;
    return fetch(...args);
  },
};

const OPERATIONS = [
  [
    gql`
      query CategoryWithEvents($id: ID!) {
        eventCategory(id: $id) {
          id
          title
          events(first: 5) {
            nodes {
              id
              title
            }
          }
        }
      }
    `,
    { id: categoryId },
  ],
  [
    gql`
      query EventWithCategory($id: ID!) {
        event(id: $id) {
          id
          title
          category {
            id
            title
          }
        }
      }
    `,
    { id: eventId },
  ],
  [
    gql`
      query FirstCategories {
        eventCategories(first: 3) {
          nodes {
            id
            title
          }
        }
      }
    `,
    {},
  ],
];

const INVALID = gql`
  query Invalid {
    eventCategories {
      noSuchField
    }
  }
`;

function client(link) {
  return new ApolloClient({ link, cache: new InMemoryCache() });
}

async function run() {
  if (mode === "invalid") {
    try {
      await client(new HttpLink(options)).query({ query: INVALID, fetchPolicy: "no-cache" });
      return { outcome: "data" };
    } catch (error) {
      if (!(error instanceof ApolloError)) throw error;
      return {
        graphQLErrors: error.graphQLErrors.map((e) => e.extensions?.code ?? null),
        networkError: error.networkError ? error.networkError.message : null,
      };
    }
  }
  const link = mode === "batch" ? new BatchHttpLink({ ...options, batchMax: 10 }) : new HttpLink(options);
  const apollo = client(link);
  const results = await Promise.all(
    OPERATIONS.map(([query, variables]) => apollo.query({ query, variables, fetchPolicy: "no-cache" })),
  );
  return { data: results.map((result) => result.data), errors: results.map((result) => result.errors ?? null) };
}

const outcome = await run();
process.stdout.write(JSON.stringify({ ...outcome, httpRequests }));
