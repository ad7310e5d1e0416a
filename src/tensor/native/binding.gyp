{
  "targets": [
    {
      "target_name": "strata_native",
      "sources": ["binding.c", "kernels.c", "quant.c", "optim.c", "binding-ext.c"],
      "cflags": ["-O3", "-std=gnu11", "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wextra"],
      "libraries": ["-lopenblas", "-lpthread", "-lm"]
    }
  ]
}
