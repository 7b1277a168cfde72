// The peers' JSON hello: the request URL parsed, its path answered as JSON.
export default {
  fetch(request) {
    return Response.json({ path: new URL(request.url).pathname });
  },
};
