// One Apollo Client for the app: queries and mutations over HTTP, subscriptions over
// graphql-ws (graphql-transport-ws), one normalised cache. The token goes in the
// Authorization header and in the WebSocket's connection_init.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";

export interface Session {
  token: string | null;
}

export function makeClient(api: string, session: Session): ApolloClient {
  const authorization = (): Record<string, string> =>
    session.token ? { Authorization: `Bearer ${session.token}` } : {};
  const ws = createClient({
    url: api.replace(/^http/, "ws"),
    // Read at every (re)connect, so a sign-in applies to the next socket.
    connectionParams: authorization,
  });
  const http = new HttpLink({ uri: api });
  const withAuth = new ApolloLink((operation, forward) => {
    operation.setContext(({ headers = {} }: { headers?: Record<string, string> }) => ({
      headers: { ...headers, ...authorization() },
    }));
    return forward(operation);
  });
  const isSubscription = ({ query }: ApolloLink.Operation): boolean => {
    const definition = getMainDefinition(query);
    return definition.kind === "OperationDefinition" && definition.operation === "subscription";
  };
  return new ApolloClient({
    cache: new InMemoryCache(),
    link: ApolloLink.split(isSubscription, new GraphQLWsLink(ws), withAuth.concat(http)),
  });
}
