"""ROICaT's tracking pipeline on suite2p sessions, run by ``bench_tracking.py`` in ROICaT's OWN
environment (``$SFONE_ROICAT_PYTHON``; see benchmarks/README.md). Imports only roicat and numpy,
never sfone.

    $SFONE_ROICAT_PYTHON benchmarks/roicat_runner.py OUT.json STAT1 FOV1 STAT2 FOV2 ...

``STATk`` is a session's suite2p ``stat.npy``, ``FOVk`` a ``.npy`` of its mean image (the same
image sfone registers). The steps are those of ``roicat.pipelines.pipeline_tracking`` with the
package defaults (``roicat.util.get_default_parameters('tracking')``): geometric alignment of
the FOV images, ROI blurring, scattering wavelet transform (SWT) of the ROI images, a sparse
similarity graph, automatic mixing of the similarities, sequential Hungarian clustering (the
default for fewer than 8 sessions). Two changes, both because pretrained weights are downloaded
at run time (from osf.io and the RoMa/kornia hosts), which this machine and CI cannot reach:

* geometric alignment: ``--geometric`` (default ``ECC_cv2``, OpenCV's ECC with ROICaT's
  ``euclidean`` = rotation + translation settings) instead of ROICaT's default ``RoMa``, a
  pretrained matcher; the non-rigid step keeps ROICaT's default (``DeepFlow``, OpenCV, no
  weights);
* ROInet: with ``--roinet`` it is used (the download must work); without it the ROI images are
  only scaled and normalised by ROInet's own preprocessor (what ROInet would be fed) for the SWT,
  and the similarity metrics are ROICaT's default ``sf`` (spatial-footprint overlap) and ``swt``
  without ``nn``.

Writes ``labels`` (per session, the cluster of each ROI; -1 = unassigned), ``time_s`` (whole
pipeline, data loading included), per-step times, the metrics used and the roicat version.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("pairs", nargs="+", help="stat.npy and FOV .npy, per session")
    parser.add_argument("--um-per-pixel", type=float, default=1.0)
    parser.add_argument("--roinet", action="store_true", help="use ROInet (downloads weights)")
    parser.add_argument("--geometric", default="ECC_cv2",
                        help="geometric alignment method (ROICaT's default RoMa downloads weights)")
    args = parser.parse_args(argv)
    if len(args.pairs) % 2 or len(args.pairs) < 4:
        parser.error("give STAT FOV for each of at least two sessions")
    stats, fovs = args.pairs[0::2], args.pairs[1::2]

    import roicat
    from roicat import ROInet, data_importing, helpers, tracking, util
    from roicat.tracking.similarity_graph import DEFAULT_METRICS

    start = time.perf_counter()
    steps = {}
    params = helpers.prepare_params({}, util.get_default_parameters(pipeline="tracking"),
                                    verbose=False)
    params["general"]["verbose"] = False
    params["alignment"]["fit_geometric"]["method"] = args.geometric
    device = "cpu"
    seed = util.set_random_seed(seed=params["general"]["random_seed"],
                                deterministic=params["general"]["random_seed"] is not None)
    images = [np.load(f).astype(np.float32) for f in fovs]
    data = data_importing.Data_suite2p(
        paths_statFiles=stats, paths_opsFiles=None, um_per_pixel=args.um_per_pixel,
        FOV_images=images, verbose=False,
        **{k: v for k, v in {**params["data_loading"]["common"],
                             **params["data_loading"]["data_suite2p"]}.items()
           if k not in ("um_per_pixel", "FOV_images", "FOV_height_width", "verbose")})
    steps["data_loading"] = time.perf_counter() - start

    aligner = tracking.alignment.Aligner(um_per_pixel=data.um_per_pixel[0], verbose=False,
                                         device=device, **params["alignment"]["initialization"])
    fov_images = aligner.augment_FOV_images(FOV_images=data.FOV_images,
                                            spatialFootprints=data.spatialFootprints,
                                            **params["alignment"]["augment"])
    aligner.fit_geometric(ims_moving=fov_images, verbose=False,
                          **params["alignment"]["fit_geometric"])
    aligner.transform_images_geometric(fov_images)
    remap = aligner.remappingIdx_geo
    if params["alignment"]["fit_nonrigid"]["method"]:
        aligner.fit_nonrigid(ims_moving=aligner.ims_registered_geo, remappingIdx_init=remap,
                             **params["alignment"]["fit_nonrigid"])
        aligner.transform_images_nonrigid(fov_images)
        remap = aligner.remappingIdx_nonrigid
    aligner.transform_ROIs(ROIs=data.spatialFootprints, remappingIdx=remap,
                           **params["alignment"]["transform_ROIs"])
    steps["alignment"] = time.perf_counter() - start

    blurrer = tracking.blurring.ROI_Blurrer(frame_shape=(data.FOV_height, data.FOV_width),
                                            plot_kernel=False, **params["blurring"])
    blurrer.blur_ROIs(spatialFootprints=aligner.ROIs_aligned[:])
    steps["blurring"] = time.perf_counter() - start

    features = {}
    if args.roinet:
        import tempfile

        roinet = ROInet.ROInet_embedder(device=device, dir_networkFiles=tempfile.gettempdir(),
                                        verbose=False, **params["ROInet"]["network"])
        roinet.generate_dataloader(ROI_images=data.ROI_images, um_per_pixel=data.um_per_pixel,
                                   pref_plot=False, **params["ROInet"]["dataloader"])
        features["nn"] = roinet.generate_latents()
        images_rs = roinet.ROI_images_rs
        metrics = list(DEFAULT_METRICS)
    else:
        # what ROInet_embedder.generate_dataloader builds with the pipeline's arguments
        pre = ROInet.Preprocessor_ROI_images(scale_normalize=True, nan_to_num=True,
                                             nan_to_num_val=0.0, verbose=False)
        images_rs = pre.scale_normalize_images(ROI_images=data.ROI_images,
                                               um_per_pixel=data.um_per_pixel)
        metrics = [m for m in DEFAULT_METRICS if m.name != "nn"]
    steps["roi_images"] = time.perf_counter() - start

    swt = tracking.scatteringWaveletTransformer.SWT(
        image_shape=data.ROI_images[0].shape[1:3], device=device,
        kwargs_Scattering2D=params["SWT"]["kwargs_Scattering2D"])
    swt.transform(ROI_images=images_rs, batch_size=params["SWT"]["batch_size"])
    features["swt"] = swt.latents
    steps["swt"] = time.perf_counter() - start

    sim = tracking.similarity_graph.ROI_graph(
        frame_height=data.FOV_height, frame_width=data.FOV_width, verbose=False,
        metric_configs=metrics, **params["similarity_graph"]["sparsification"])
    sim.compute_similarity_blockwise(spatialFootprints=blurrer.ROIs_blurred,
                                     ROI_session_bool=data.session_bool, features=features,
                                     **params["similarity_graph"]["compute_similarity"])
    norm = params["similarity_graph"]["normalization"]
    sim.make_normalized_similarities(centers_of_mass=data.centroids, features=features,
                                     device=device, k_max=data.n_sessions * norm["k_max"],
                                     k_min=data.n_sessions * norm["k_min"],
                                     algo_NN=norm["algo_NN"])
    steps["similarity_graph"] = time.perf_counter() - start

    clusterer = tracking.clustering.Clusterer(similarities=sim.similarities_final,
                                              metric_configs=metrics, s_sesh=sim.s_sesh,
                                              session_bool=data.session_bool, verbose=False)
    mixing = clusterer.find_optimal_parameters_for_pruning(
        seed=seed, **params["clustering"].get("parameters_automatic_mixing", {}))
    clusterer.make_pruned_similarity_graphs(mixing_params=mixing,
                                            **params["clustering"]["pruning"])
    labels = clusterer.fit_sequentialHungarian(d_conj=clusterer.dConj_pruned,
                                               session_bool=data.session_bool,
                                               **params["clustering"]["sequential_hungarian"])
    steps["clustering"] = time.perf_counter() - start
    _, by_session, _, _, _ = tracking.clustering.make_label_variants(labels=labels,
                                                                     n_roi_bySession=data.n_roi)
    ends = list(steps.values())  # elapsed time at the end of each step -> each step's duration
    durations = dict(zip(steps, np.diff([0.0, *ends]).round(3).tolist(), strict=True))
    out = {"roicat_version": roicat.__version__, "time_s": time.perf_counter() - start,
           "steps_s": durations, "metrics": [m.name for m in metrics], "roinet": args.roinet,
           "um_per_pixel": args.um_per_pixel, "clustering": "sequential_hungarian",
           "alignment": {"geometric": args.geometric,
                         "geometric_kwargs": params["alignment"]["fit_geometric"]["kwargs_method"]
                         .get(args.geometric),
                         "nonrigid": params["alignment"]["fit_nonrigid"]["method"]},
           "labels": [np.asarray(x).astype(int).tolist() for x in by_session]}
    args.out.write_text(json.dumps(out, indent=1, default=str) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    main()
