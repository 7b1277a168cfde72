// The peers' timer: answer after a 5 ms setTimeout.
export default {
  async fetch() {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return Response.json({ ok: true });
  },
};
