// Read by relay-compiler only (no Babel plugin runs here); relay/run.mjs loads the compiled artifacts.
// The fragment usePaginationFragment takes: @refetchable (so on a Node type) with a @connection on
// EventCategory.events, paged by first/after.
const { graphql } = require("relay-runtime");

graphql`
  fragment CategoryEvents_category on EventCategory
  @refetchable(queryName: "CategoryEventsPaginationQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 2 }, cursor: { type: "String" }) {
    id
    title
    events(first: $count, after: $cursor) @connection(key: "CategoryEvents_events") {
      totalCount
      edges {
        node {
          id
          ...EventCard_event
        }
      }
    }
  }
`;

graphql`
  query CategoryEventsQuery($categoryId: ID!) {
    eventCategory(id: $categoryId) {
      ...CategoryEvents_category
    }
  }
`;
