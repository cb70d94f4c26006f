# dropbench: one build. CPU always; CUDA objects when nvcc and cuDNN are found.
# `make` builds libdropbench.a and ./dropbench; `make check` runs the tests;
# `make reproduce` runs the default study; `make bench` the throughput benchmark,
# `make bench-kernel` the DropBlock kernel against a copy and the max-pool formulation.

CC      ?= gcc
NATIVE  ?= 1
OPT     ?= -O3
# -ffp-contract=off: no fused multiply-adds the source does not write (GCC's ISO-mode default,
# said for every compiler): the CUDA twins round each product and sum as the CPU does
# warnings are errors; a machine whose compilers warn differently (a GPU machine's newer gcc) can
# build with WERROR=
WERROR  ?= -Werror
comma   := ,
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra $(WERROR) -fopenmp -ffp-contract=off -I. -MMD -MP
ifeq ($(NATIVE),1)
CFLAGS  += -march=native
endif
# OpenBLAS's OpenMP flavour shares our OpenMP thread pool; the pthreads flavour's pool would
# fight it for the cores (measured: 3x slower training on 2 cores).
BLAS_DIR ?= $(patsubst %/libopenblas.so,%,$(firstword $(wildcard /usr/lib/*/openblas-openmp/libopenblas.so)))
ifneq ($(BLAS_DIR),)
LDLIBS  += -L$(BLAS_DIR) -Wl,-rpath,$(BLAS_DIR)
endif
LDLIBS  += -lopenblas -lsqlite3 -lz -lcurl -larchive -lcrypto -ljpeg -ljansson -lpng -lm -fopenmp
# oneDNN (Debian's libdnnl-dev) for the CPU's convolutions (nets/conv_dnnl.h); without it the
# GEMM path (nets/conv.c) does them all (DNNL= builds without it where it is installed)
DNNL    ?= $(wildcard /usr/include/oneapi/dnnl/dnnl.h)
ifneq ($(DNNL),)
CFLAGS  += -DDB_HAVE_DNNL
LDLIBS  += -ldnnl
endif
# Open MPI (Debian's libopenmpi-dev) for data-parallel runs across processes (core/dist.h);
# without it a run is one process
MPI_PC  := $(firstword $(foreach p,ompi-c mpi,$(if $(shell pkg-config --exists $(p) 2>/dev/null && echo y),$(p))))
ifneq ($(MPI_PC),)
CFLAGS  += -DDB_HAVE_MPI $(shell pkg-config --cflags $(MPI_PC))
LDLIBS  += $(shell pkg-config --libs $(MPI_PC))
endif

# ---- CUDA discovery: CUDA_HOME, then nvcc on PATH; cuDNN at CUDNN_HOME or beside CUDA ----
NVCC ?= $(firstword $(wildcard $(CUDA_HOME)/bin/nvcc) $(shell command -v nvcc 2>/dev/null))
ifneq ($(NVCC),)
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(realpath $(NVCC)))
CUDNN_INC := $(firstword $(dir $(wildcard $(CUDNN_HOME)/include/cudnn.h $(CUDA_HOME)/include/cudnn.h \
               /usr/local/include/cudnn.h /usr/include/cudnn.h /usr/include/x86_64-linux-gnu/cudnn.h)))
endif
ifneq ($(and $(NVCC),$(CUDNN_INC)),)
WITH_CUDA := 1
CUDA_ARCH ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
             -gencode arch=compute_90,code=compute_90
NVFLAGS += -std=c++17 -O3 -I. -I$(CUDNN_INC) $(CUDA_ARCH) $(if $(WERROR),-Werror all-warnings) \
           -Xcompiler -Wall,-Wextra$(if $(WERROR),$(comma)$(WERROR)) -DDB_HAVE_CUDA
CFLAGS  += -DDB_HAVE_CUDA -I$(CUDA_HOME)/include
LDLIBS  += -L$(CUDA_HOME)/lib64 -L$(CUDA_HOME)/lib -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudart -lstdc++
# what needs only the CUDA runtime goes into the program; what needs cuDNN or cuBLAS into the
# GPU backend's shared object, loaded on demand (nets/gpu_backend.h)
# (the regularizers' and SGD's launchers go into both: the GPU graph runs them, and so does the
# kernel benchmark of ./dropbench kernel)
GPU_SO_SRC := nets/gpu_backend.cu nets/graph_cuda.cu nets/graph_cuda_conv.cu nets/graph_cuda_reg.cu nets/graph_cuda_step.cu nets/conv_cudnn.cu nets/bn_cudnn.cu nets/bn_cuda.cu nets/linear_cublas.cu \
              nets/elementwise_cuda.cu nets/upsample_cuda.cu nets/cells_cuda.cu detect/detect_cuda.cu detect/detect_gpu.cu nets/dist_nccl.cu nets/gpu_prof.cu \
              nets/conv_gemm.cu
# NCCL for data parallel across GPUs (nets/dist_nccl.h): NCCL_HOME, else the CUDA toolkit's, else
# Debian's; without it the backend says so when a run asks for several GPUs
NCCL_SO := $(firstword $(wildcard $(NCCL_HOME)/lib/libnccl.so $(NCCL_HOME)/lib/libnccl.so.2 $(CUDA_HOME)/lib64/libnccl.so \
             $(CUDA_HOME)/lib/libnccl.so /usr/lib/x86_64-linux-gnu/libnccl.so))
NCCL_INC := $(firstword $(dir $(wildcard $(NCCL_HOME)/include/nccl.h $(CUDA_HOME)/include/nccl.h /usr/include/nccl.h)))
ifneq ($(and $(NCCL_SO),$(NCCL_INC)),)
NVFLAGS += -DDB_HAVE_NCCL -I$(NCCL_INC)
NCCL_LINK := -L$(dir $(NCCL_SO)) -Xlinker -rpath=$(dir $(NCCL_SO)) -l:$(notdir $(NCCL_SO))
endif
BOTH_CU := dropouts/dropout_cuda.cu dropouts/dropblock_cuda.cu dropouts/droppath_cuda.cu nets/sgd_cuda.cu
CU_SRC  := $(filter-out $(GPU_SO_SRC),$(wildcard core/*.cu nets/*.cu dropouts/*.cu))
CUDNN_SO := $(firstword $(realpath $(wildcard $(CUDNN_HOME)/lib/libcudnn.so $(CUDNN_HOME)/lib/libcudnn.so.9 $(CUDNN_HOME)/lib64/libcudnn.so \
              $(CUDA_HOME)/lib64/libcudnn.so $(CUDA_HOME)/lib/libcudnn.so /usr/lib/x86_64-linux-gnu/libcudnn.so \
              /usr/lib/x86_64-linux-gnu/libcudnn.so.9)))
GPU_SO  := $(if $(CUDNN_SO),build/libdropbench_gpu.so)
LDLIBS  += -rdynamic
else
CU_SRC  :=
GPU_SO  :=
endif

CLI_SRC := bench/main.c bench/cli.c $(wildcard bench/cmd_*.c)
CLI_OBJ := $(CLI_SRC:%.c=build/%.o)
LIB_SRC := $(wildcard core/*.c nets/*.c dropouts/*.c datasets/*.c detect/*.c segment/*.c eval/*.c results/*.c report/*.c train/*.c study/*.c)
LIB_OBJ := $(LIB_SRC:%.c=build/%.o) $(CU_SRC:%.cu=build/%.cu.o)
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:%.c=build/%.o)

.PHONY: all check reproduce bench bench-kernel deps clean build-note gpu-check gpu-session cpu-spread fuzz fuzz-build FORCE
all: build-note dropbench $(GPU_SO)

build-note:
ifeq ($(WITH_CUDA),1)
	@echo "dropbench: building with CUDA ($(NVCC), cuDNN headers in $(CUDNN_INC))"
else
	@echo "dropbench: CPU-only build (nvcc or cuDNN headers not found; set CUDA_HOME/CUDNN_HOME to enable CUDA)"
endif

# `make V=1` shows the full commands
Q := $(if $(V),,@)

build/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC    $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

build/%.cu.o: %.cu
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NVCC  $<")
	$(Q)$(NVCC) $(NVFLAGS) -MMD -MP -c $< -o $@

# Provenance compiled in: the commit, dirty flag, tree and diff hashes, the flags. Regenerated
# every build, rewritten (and study/provenance.c recompiled) only when it changes. Source files
# git does not track yet (the wildcards compile them in) count as changes, their contents hashed.
SRC_DIRS := core nets dropouts datasets detect segment eval results report train study bench include
UNTRACKED_SRC = git ls-files -z --others --exclude-standard -- $(foreach d,$(SRC_DIRS),'$(d)/*.c' '$(d)/*.h' '$(d)/*.cu') 2>/dev/null
build/gen/version.h: FORCE
	@mkdir -p build/gen
	@{ echo '#define DB_GIT_COMMIT "'"$$(git rev-parse HEAD 2>/dev/null || echo unknown)"'"'; \
	   echo '#define DB_GIT_DIRTY "'"$$(if [ -n "$$(git status --porcelain --untracked-files=no 2>/dev/null; $(UNTRACKED_SRC) | tr -d '\0')" ]; then echo yes; elif git rev-parse HEAD >/dev/null 2>&1; then echo no; else echo unknown; fi)"'"'; \
	   echo '#define DB_GIT_TREE "'"$$(git rev-parse 'HEAD^{tree}' 2>/dev/null || echo unknown)"'"'; \
	   echo '#define DB_GIT_DIFF "'"$$({ git diff HEAD 2>/dev/null; $(UNTRACKED_SRC) | xargs -0 -r sha1sum; } | sha1sum | cut -c1-40)"'"'; \
	   echo '#define DB_CFLAGS "$(strip $(CFLAGS))"'; } >$@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp
build/study/provenance.o build/bench/cmd_report.o: build/gen/version.h
# Whether oneDNN was found, as a file that changes only when that does: the oneDNN object is
# rebuilt when libdnnl-dev comes or goes (the compiler flags are not tracked otherwise)
build/gen/dnnl.flag: FORCE
	@mkdir -p build/gen
	@echo '$(findstring -DDB_HAVE_DNNL,$(CFLAGS))' >$@.tmp; cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp
build/nets/conv_dnnl.o: build/gen/dnnl.flag
# The paper's reported numbers, compiled into the store (loaded into paper_values).
build/gen/paper_tables.h: results/paper/paper-tables.csv
	@mkdir -p build/gen
	@{ echo 'static const char db_paper_tables_csv[] ='; \
	   sed -e 's/\r$$//' -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' $<; echo ';'; } >$@
build/results/store.o: build/gen/paper_tables.h
FORCE:

build/libdropbench.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

dropbench: $(CLI_OBJ) build/libdropbench.a
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# The GPU backend (only when cuDNN's library is there too; without it --device cuda says so)
build/pic/%.cu.o: %.cu
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NVCC  $< (shared)")
	$(Q)$(NVCC) $(NVFLAGS) -MMD -MP -Xcompiler -fPIC -c $< -o $@

build/libdropbench_gpu.so: $(GPU_SO_SRC:%.cu=build/pic/%.cu.o) $(BOTH_CU:%.cu=build/pic/%.cu.o)
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(NVCC) -shared $^ -o $@ -L$(dir $(CUDNN_SO)) -Xlinker -rpath=$(dir $(CUDNN_SO)) -l:$(notdir $(CUDNN_SO)) \
	  -L$(CUDA_HOME)/lib64 -Xlinker -rpath=$(CUDA_HOME)/lib64 -lcublas -lcudart $(NCCL_LINK)

build/tests/unit: $(TEST_OBJ) build/libdropbench.a
	@$(if $(Q),echo "  LINK  $@")
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

deps:
	@scripts/deps

check: deps
	@$(MAKE) --no-print-directory all build/tests/unit fuzz-build
	@tests/run

reproduce: deps
	@$(MAKE) --no-print-directory all
	@scripts/reproduce

bench:
	@scripts/deps --peer
	@$(MAKE) --no-print-directory all
	@BENCH_PYTHON="$${BENCH_PYTHON:-$$(scripts/peer_venv || true)}" scripts/bench

bench-kernel:
	@scripts/deps --peer
	@$(MAKE) --no-print-directory all
	@BENCH_PYTHON="$${BENCH_PYTHON:-$$(scripts/peer_venv || true)}" scripts/bench_kernel

# For a GPU machine with nvcc and no other development packages: builds only the CUDA code and
# its checks against the CPU reference (no OpenBLAS, SQLite or zlib needed) and runs them.
GPU_ARCH ?= $(CUDA_ARCH)
# gpu-check's warnings: as the program's (WERROR) unless GPU_WERROR says otherwise
GPU_WERROR ?= $(WERROR)
GPU_NV_WERROR := $(if $(GPU_WERROR),-Werror all-warnings)
GPU_CHECK_SRC := tests/gpu/gpu_check.cu tests/gpu/gpu_conv.cu tests/gpu/gpu_ops.cu tests/gpu/gpu_bn.cu tests/gpu/gpu_graph.cu core/cuda_info.cu \
                 nets/sgd_cuda.cu nets/graph_cuda.cu nets/graph_cuda_conv.cu nets/graph_cuda_reg.cu nets/graph_cuda_step.cu nets/conv_cudnn.cu nets/bn_cudnn.cu nets/bn_cuda.cu nets/linear_cublas.cu nets/elementwise_cuda.cu \
                 nets/upsample_cuda.cu nets/cells_cuda.cu dropouts/dropout_cuda.cu dropouts/dropblock_cuda.cu \
                 dropouts/droppath_cuda.cu tests/gpu/gpu_detect.cu detect/detect_cuda.cu detect/detect_gpu.cu nets/dist_nccl.cu \
                 tests/gpu/gpu_nccl.cu nets/gpu_prof.cu nets/conv_gemm.cu tests/gpu/gpu_nets.cu tests/gpu/nets_run.cu \
                 tests/gpu/gpu_nets_bf16.cu nets/gpu_backend.cu
GPU_CHECK_C   := dropouts/dropout.c dropouts/dropblock.c dropouts/droppath.c core/status.c core/rand_bulk.c \
                 nets/conv.c nets/batchnorm.c nets/pool.c nets/linear.c nets/elementwise.c core/gemm_ref.c \
                 nets/graph.c nets/graph_finalize.c nets/graph_run.c nets/resnet.c nets/optim.c core/arena.c tests/gpu/gemm_portable.c \
                 tests/gpu/steps.c nets/conv_dnnl.c core/log.c nets/upsample.c nets/depthwise.c detect/loss.c detect/layout.c \
                 detect/anchors.c nets/amoebanet.c nets/retinanet.c nets/segnet.c nets/fpn.c
# cuDNN for gpu-check: CUDNN_HOME, else a PyTorch installation's nvidia/cudnn folder, else the CUDA toolkit
GPU_CUDNN_HOME ?= $(or $(CUDNN_HOME),$(shell python3 -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null),$(CUDA_HOME))
GPU_CUDNN_INC := $(firstword $(dir $(wildcard $(GPU_CUDNN_HOME)/include/cudnn.h $(CUDA_HOME)/include/cudnn.h \
                   /usr/local/include/cudnn.h /usr/include/cudnn.h /usr/include/x86_64-linux-gnu/cudnn.h)))
GPU_CUDNN_SO  := $(firstword $(wildcard $(GPU_CUDNN_HOME)/lib/libcudnn.so $(GPU_CUDNN_HOME)/lib/libcudnn.so.9 \
                   $(GPU_CUDNN_HOME)/lib64/libcudnn.so $(CUDA_HOME)/lib64/libcudnn.so $(CUDA_HOME)/lib/libcudnn.so \
                   /usr/lib/x86_64-linux-gnu/libcudnn.so /usr/lib/x86_64-linux-gnu/libcudnn.so.9))
# NCCL for gpu-check: NCCL_HOME, else a PyTorch installation's nvidia/nccl folder, else the CUDA toolkit's
GPU_NCCL_HOME ?= $(or $(NCCL_HOME),$(shell python3 -c 'import nvidia.nccl as m; print(list(m.__path__)[0])' 2>/dev/null),$(CUDA_HOME))
GPU_NCCL_SO  := $(firstword $(wildcard $(GPU_NCCL_HOME)/lib/libnccl.so $(GPU_NCCL_HOME)/lib/libnccl.so.2 \
                  $(GPU_NCCL_HOME)/lib64/libnccl.so $(CUDA_HOME)/lib64/libnccl.so))
GPU_NCCL_INC := $(firstword $(dir $(wildcard $(GPU_NCCL_HOME)/include/nccl.h $(CUDA_HOME)/include/nccl.h)))
# Every object of its own, so that `make -j` builds them side by side (a GPU session's minutes are
# short). GPU_SAN=1 builds build/gpu-check-asan: the host code under AddressSanitizer, in
# build/gpu-asan (run it with ASAN_OPTIONS=protect_shadow_gap=0, which CUDA's mappings need).
GPU_OBJ := build/gpu$(if $(GPU_SAN),-asan)
GPU_SAN_CC := $(if $(GPU_SAN),-fsanitize=address -fno-omit-frame-pointer -g)
GPU_SAN_NV := $(if $(GPU_SAN),-g -Xcompiler -fsanitize=address$(comma)-fno-omit-frame-pointer)
GPU_NCCL_DEF := $(if $(and $(GPU_NCCL_SO),$(GPU_NCCL_INC)),-DDB_HAVE_NCCL -I$(GPU_NCCL_INC))
GPU_NVFLAGS = -std=c++17 -O3 -I. -I$(GPU_CUDNN_INC) $(GPU_NV_WERROR) -Xcompiler -Wall,-Wextra$(if $(GPU_WERROR),$(comma)$(GPU_WERROR)) \
              $(or $(GPU_ARCH),-gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90) $(GPU_NCCL_DEF) $(GPU_SAN_NV)
GPU_LINK = -L$(dir $(GPU_CUDNN_SO)) -Xlinker -rpath,$(dir $(GPU_CUDNN_SO)) -l:$(notdir $(GPU_CUDNN_SO)) -lcublas -lgomp \
           $(if $(GPU_SAN),-Xcompiler -fsanitize=address)
$(GPU_OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -march=native -Wall -Wextra $(GPU_WERROR) -fopenmp -ffp-contract=off -I. $(GPU_SAN_CC) -MMD -MP -c $< -o $@
$(GPU_OBJ)/%.cu.o: %.cu
	@mkdir -p $(dir $@)
	$(if $(NVCC),,$(error gpu-check needs nvcc: put it on PATH or set CUDA_HOME))
	$(if $(GPU_CUDNN_INC),,$(error gpu-check needs cuDNN's headers (cudnn.h): set CUDNN_HOME to a cuDNN 9 folder with include/ and lib/ -- e.g. the nvidia/cudnn folder of the nvidia-cudnn-cu13 wheel (pip install nvidia-cudnn-cu13), or NVIDIA's cudnn9-cuda-13 package))
	$(NVCC) $(GPU_NVFLAGS) -MMD -MP -c $< -o $@
GPU_CHECK_OBJ = $(GPU_CHECK_SRC:%.cu=$(GPU_OBJ)/%.cu.o) $(GPU_CHECK_C:%.c=$(GPU_OBJ)/%.o)
-include $(wildcard build/gpu/*/*.d build/gpu/*/*/*.d build/gpu-asan/*/*.d build/gpu-asan/*/*/*.d)

build/gpu-check$(if $(GPU_SAN),-asan): $(GPU_CHECK_OBJ)
	@mkdir -p build
	$(if $(GPU_CUDNN_SO),,$(error gpu-check needs cuDNN's library (libcudnn.so or libcudnn.so.9) beside its headers: set CUDNN_HOME))
	$(NVCC) $(or $(GPU_ARCH),-gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90) $(GPU_CHECK_OBJ) \
	  $(GPU_LINK) $(if $(GPU_NCCL_DEF),-L$(dir $(GPU_NCCL_SO)) -Xlinker -rpath=$(dir $(GPU_NCCL_SO)) -l:$(notdir $(GPU_NCCL_SO))) -o $@

gpu-check: build/gpu-check
	@scripts/gpu_check

# The convolution probe: what cuDNN offers and what we take for ResNet-20/50 and FPN shapes
GPU_PROBE_SRC := tests/gpu/gpu_probe.cu nets/conv_cudnn.cu nets/bn_cudnn.cu nets/elementwise_cuda.cu nets/conv_gemm.cu
GPU_PROBE_OBJ = $(GPU_PROBE_SRC:%.cu=$(GPU_OBJ)/%.cu.o) $(GPU_CHECK_C:%.c=$(GPU_OBJ)/%.o)
build/gpu-probe: $(GPU_PROBE_OBJ)
	$(if $(GPU_CUDNN_SO),,$(error gpu-probe needs cuDNN's library: see build/gpu-check))
	$(NVCC) $(or $(GPU_ARCH),-gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90) $(GPU_PROBE_OBJ) \
	  $(GPU_LINK) -o $@

# The CPU-vs-CPU spread gpu-check's whole-step limits are set from (tests/gpu/cpu_spread.c): the
# same steps with OpenBLAS and with the portable GEMM gpu-check's CPU side uses, 1 and 2 threads.
build/cpu-spread-portable: build/gpu/tests/gpu/cpu_spread.o $(GPU_CHECK_C:%.c=build/gpu/%.o)
	$(CC) -fopenmp $^ -o $@ -lm
build/cpu-spread-openblas: build/gpu/tests/gpu/cpu_spread.o build/gpu/tests/gpu/steps.o build/libdropbench.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)
cpu-spread: build/cpu-spread-portable build/cpu-spread-openblas
	@scripts/cpu_spread

# The cuDNN layout probe (a team diagnostic in shared/tools, not project code), built against the
# cuDNN gpu-check uses; `make gpu-session` is the one command a GPU session runs first.
PROBE ?= $(firstword $(wildcard shared/tools/cudnn_layouts.cu ../shared/tools/cudnn_layouts.cu))
build/cudnn_layouts: $(PROBE)
	@mkdir -p build
	$(if $(PROBE),,$(error no layout probe source: set PROBE=FILE))
	$(NVCC) -O2 $(PROBE) -I$(GPU_CUDNN_INC) -L$(dir $(GPU_CUDNN_SO)) -Xlinker -rpath,$(dir $(GPU_CUDNN_SO)) \
	  -l:$(notdir $(GPU_CUDNN_SO)) -o $@

gpu-session:
	@scripts/gpu_session

# ---- fuzzing (libFuzzer through clang): the data readers on arbitrary bytes ----
# `make fuzz-build` builds the targets (make check does, and runs each briefly on its seeds);
# `make fuzz FUZZ_SECONDS=600` runs each for that long (scripts/fuzz).
FUZZ_CC ?= clang
FUZZ_TARGETS := fuzz_idx fuzz_cifar fuzz_catalog fuzz_jpeg fuzz_coco fuzz_png fuzz_detset
FUZZ_LIB_SRC := datasets/idx.c datasets/detset.c datasets/cifar.c datasets/catalog.c datasets/image.c datasets/coco.c \
                eval/coco_eval.c core/log.c \
                datasets/voc.c core/status.c datasets/segset.c datasets/detbatch.c datasets/batch.c datasets/augment.c \
                datasets/folder.c core/parallel.c tests/jpeg_fixture.c datasets/place.c datasets/segbatch.c \
                datasets/autoaugment.c
build/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_input.h $(FUZZ_LIB_SRC) $(wildcard datasets/*.h eval/*.h) core/status.h
	@mkdir -p build/fuzz
	@$(if $(Q),echo "  FUZZ  $@")
	$(Q)$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -I. $< $(FUZZ_LIB_SRC) -o $@ -lz -larchive -ljpeg -ljansson -lpng -lm

fuzz-build: $(FUZZ_TARGETS:%=build/fuzz/%)

fuzz: fuzz-build
	@scripts/fuzz $(FUZZ_TARGETS)

clean:
	rm -rf build dropbench

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(wildcard build/pic/*/*.cu.d) \
         $(wildcard build/gpu/*/*.d build/gpu/*/*/*.d)
