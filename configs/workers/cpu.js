// CPU-bound worker (the bench's CPU_HEAVY script): sums sqrt(i) * sin(i).
function work(n) {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.sqrt(i) * Math.sin(i);
  return sum;
}

export default {
  fetch(request) {
    const n = Number(new URL(request.url).searchParams.get("n") ?? 10000);
    return Response.json({ sum: work(n) });
  },
  task(payload) {
    return { sum: work(payload.n ?? 10000) };
  },
};
