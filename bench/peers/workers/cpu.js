// The peers' CPU loop: 1e5 iterations of arithmetic per request.
export default {
  fetch() {
    let x = 0;
    for (let i = 0; i < 100000; i++) x = (x + i * 7) % 1000003;
    return Response.json({ x });
  },
};
