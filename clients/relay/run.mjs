// Runs the compiled Relay operations against a gateway with relay-runtime, as Relay's hooks do:
// the category's first page of events, then the next page through the @refetchable pagination query
// (usePaginationFragment's loadNext), then an event again through its refetch query (useRefetchableFragment).
// Usage: GATEWAY_URL=http://…/graphql GATEWAY_KEY=… node relay/run.mjs <category id>
// Prints what each step read from the store, as JSON.
import relay from "relay-runtime";

import CategoryEventsPaginationQuery from "./__generated__/CategoryEventsPaginationQuery.graphql.js";
import CategoryEventsQuery from "./__generated__/CategoryEventsQuery.graphql.js";
import CategoryEventsFragment from "./__generated__/CategoryEvents_category.graphql.js";
import EventCardRefetchQuery from "./__generated__/EventCardRefetchQuery.graphql.js";
import EventCardFragment from "./__generated__/EventCard_event.graphql.js";

const { Environment, Network, RecordSource, Store, createOperationDescriptor, fetchQuery, getSingularSelector } =
  relay;
const url = process.env.GATEWAY_URL;
const key = process.env.GATEWAY_KEY;
const [categoryId] = process.argv.slice(2);
let requests = 0;

async function fetchGraphQL(params, variables) {
  requests += 1;
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json, application/json",
      Authorization: `Bearer ${key}`,
    },
    body: JSON.stringify({ query: params.text, variables, operationName: params.name }),
  });
  const body = await response.json();
  if (body.errors) {
    throw new Error(`${params.name}: ${JSON.stringify(body.errors)}`);
  }
  return body;
}

const environment = new Environment({
  network: Network.create(fetchGraphQL),
  store: new Store(new RecordSource()),
});

const operation = createOperationDescriptor(CategoryEventsQuery, { categoryId });
environment.retain(operation);
await fetchQuery(environment, CategoryEventsQuery, { categoryId }).toPromise();
const categoryRef = environment.lookup(operation.fragment).data.eventCategory;
const readCategory = () => environment.lookup(getSingularSelector(CategoryEventsFragment, categoryRef)).data;

const first = readCategory();
const firstPage = first.events.edges.map((edge) => edge.node.id);

// loadNext(2): the pagination query from the end cursor; the connection handler appends its edges.
const next = { id: first.id, count: 2, cursor: first.events.pageInfo.endCursor };
environment.retain(createOperationDescriptor(CategoryEventsPaginationQuery, next));
await fetchQuery(environment, CategoryEventsPaginationQuery, next).toPromise();
const paged = readCategory();

// refetch(): the event again by its id, through Query.node.
const eventRef = paged.events.edges[0].node;
const event = environment.lookup(getSingularSelector(EventCardFragment, eventRef)).data;
const refetch = { id: event.id };
environment.retain(createOperationDescriptor(EventCardRefetchQuery, refetch));
await fetchQuery(environment, EventCardRefetchQuery, refetch).toPromise();
const refetched = environment.lookup(getSingularSelector(EventCardFragment, eventRef)).data;

process.stdout.write(
  JSON.stringify({
    category: { id: first.id, title: first.title, totalCount: first.events.totalCount },
    firstPage,
    afterLoadNext: paged.events.edges.map((edge) => edge.node.id),
    hasNextPage: paged.events.pageInfo.hasNextPage,
    refetched: { id: refetched.id, title: refetched.title, category: refetched.category },
    requests,
  }),
);
