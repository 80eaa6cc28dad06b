// Read by relay-compiler only (no Babel plugin runs here); relay/run.mjs loads the compiled artifacts.
// A @refetchable fragment on Event: Relay accepts it only on a type implementing Node, with Query.node.
const { graphql } = require("relay-runtime");

graphql`
  fragment EventCard_event on Event @refetchable(queryName: "EventCardRefetchQuery") {
    id
    title
    category {
      id
      title
    }
  }
`;
