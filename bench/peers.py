#!/usr/bin/env python3
"""The peers' side of bench/run.sh, on the shapes lutforge-bench times: onnxruntime's and
numpy's float32 matrix-vector product, faiss-cpu's k-means. Prints one JSON object.

    python bench/peers.py matvec --rows 4096 --cols 4096 --repeats 21
    python bench/peers.py numpy-matvec ...     (run with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset)
    python bench/peers.py kmeans --n 1000000 --k 256 --d 2 --iterations 20 [--problems 1]
"""
import argparse, json, os, time
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("what", choices=["matvec", "numpy-matvec", "kmeans"])
ap.add_argument("--rows", type=int, default=4096); ap.add_argument("--cols", type=int, default=4096)
ap.add_argument("--repeats", type=int, default=21)
ap.add_argument("--n", type=int, default=1_000_000); ap.add_argument("--k", type=int, default=256)
ap.add_argument("--d", type=int, default=2); ap.add_argument("--iterations", type=int, default=20)
ap.add_argument("--problems", type=int, default=1)
a = ap.parse_args()
cores = os.cpu_count() or 1

def median(body, warmup, repeats):
    for _ in range(warmup): body()
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter(); body(); t.append(time.perf_counter() - t0)
    return float(np.median(t))

rng = np.random.default_rng(42)
out = {}
if a.what == "matvec":
    import onnx, onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    w = rng.standard_normal((a.cols, a.rows), dtype=np.float32)
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "matvec",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, a.cols])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, a.rows])],
                          [numpy_helper.from_array(w, "w")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    x = rng.standard_normal((1, a.cols), dtype=np.float32)
    for threads, key in [(1, "onnxruntime_1"), (cores, "onnxruntime_all")]:
        so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
        s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
        out[key] = median(lambda: s.run(None, {"x": x}), 3, a.repeats)
    out["onnxruntime_version"] = ort.__version__
elif a.what == "numpy-matvec":
    from threadpoolctl import threadpool_info, threadpool_limits
    w = rng.standard_normal((a.rows, a.cols), dtype=np.float32); x = rng.standard_normal(a.cols, dtype=np.float32)
    for threads, key in [(1, "numpy_1"), (cores, "numpy_all")]:
        with threadpool_limits(threads):
            out[key] = median(lambda: w @ x, 3, a.repeats)
    out["numpy_blas"] = [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads")} for i in threadpool_info()]
    out["numpy_version"] = np.__version__
    out["openblas_env_unset"] = all(v not in os.environ for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"))
else:
    import faiss
    faiss.omp_set_num_threads(cores)
    data = [rng.uniform(-1, 1, (a.n, a.d)).astype(np.float32) for _ in range(a.problems)]
    def run():
        for x in data:
            km = faiss.Kmeans(a.d, a.k, niter=a.iterations, seed=1, verbose=False, max_points_per_centroid=a.n, min_points_per_centroid=1)
            km.train(x)
    out["faiss"] = median(run, 0, 3 if a.problems == 1 else 1)
    out["faiss_version"] = faiss.__version__
out["threads"] = cores
print(json.dumps(out, sort_keys=True))
