// An async worker that waits on a 5 ms timer, like the bench's "Standard (5 ms)" case.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export default {
  async fetch(request) {
    await sleep(5);
    return new Response("slept 5 ms\n");
  },
  async task(payload) {
    await sleep(payload.ms ?? 5);
    return { slept: payload.ms ?? 5 };
  },
};
