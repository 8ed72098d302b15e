#!/usr/bin/env python3
"""Data-dependent shapes against onnxruntime: SSD/YOLO-style post-processing.

    detection_ort.py NODE_TESTS CLCNN CLI_NODE_CASES [--device D]

Builds a small detection head (1x1 convolutions give boxes and class scores,
NonMaxSuppression selects boxes, Gather picks the selected boxes and their
classes and scores; NonZero, Shape and a Reshape of the selection besides) and
data sets with different numbers of detections, whose expected outputs come
from onnxruntime. Then runs them
  - through the C runner (node_tests --models: one session, every data set a
    run of it, so the counts change between runs of one session), and
  - through `clcnn run` (cli_node_cases.py), one process per data set.
A second case is the post-processing torchvision's detectors export with the
TorchScript exporter: boxes above a score threshold are picked by NonZero and
Gather, and an If whose condition is computed from their data-dependent shape
("is the selection empty?", Shape -> ReduceProd -> Equal -> Cast) returns
either an empty list or NonMaxSuppression's choice, which later Gathers read.
Its data sets take both branches. A RoiAlign (as Faster R-CNN's second stage
reads its regions) pools the input at the boxes kept, and a Loop with one
iteration per box kept (as Mask R-CNN pastes its masks) gathers a row per box.
Integer outputs must match exactly, float outputs within 1e-5 relative.
Exit 0 pass, 1 fail, 77 when onnx, onnxruntime or numpy are missing.
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e}")
    sys.exit(77)

C, H, W, CLASSES = 8, 6, 5, 3
N = H * W  # candidate boxes


def build_model():
    rng = np.random.default_rng(7)
    wb = rng.normal(0, 0.5, (4, C, 1, 1)).astype(np.float32)
    ws = rng.normal(0, 0.8, (CLASSES, C, 1, 1)).astype(np.float32)
    inits = [
        numpy_helper.from_array(wb, "w_box"),
        numpy_helper.from_array(ws, "w_cls"),
        numpy_helper.from_array(np.array([1, 4, N], np.int64), "box_shape"),
        numpy_helper.from_array(np.array([1, CLASSES, N], np.int64), "score_shape"),
        numpy_helper.from_array(np.array([N, 4], np.int64), "flat_shape"),
        numpy_helper.from_array(np.array([10], np.int64), "max_out"),
        numpy_helper.from_array(np.array([0.3], np.float32), "iou"),
        numpy_helper.from_array(np.array(2, np.int64), "col_box"),
        numpy_helper.from_array(np.array(1, np.int64), "col_cls"),
        numpy_helper.from_array(np.array([-1], np.int64), "minus1"),
        numpy_helper.from_array(np.array(0.25, np.float32), "half"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w_box"], ["box_map"]),
        helper.make_node("Reshape", ["box_map", "box_shape"], ["box_cn"]),
        helper.make_node("Transpose", ["box_cn"], ["boxes"], perm=[0, 2, 1]),
        helper.make_node("Conv", ["x", "w_cls"], ["cls_map"]),
        helper.make_node("Sigmoid", ["cls_map"], ["cls_sig"]),
        helper.make_node("Reshape", ["cls_sig", "score_shape"], ["scores"]),
        helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_out", "iou", "score_thr"],
                         ["selected"], center_point_box=1),
        helper.make_node("Gather", ["selected", "col_box"], ["box_idx"], axis=1),
        helper.make_node("Gather", ["selected", "col_cls"], ["cls_idx"], axis=1),
        helper.make_node("Reshape", ["boxes", "flat_shape"], ["boxes_flat"]),
        helper.make_node("Gather", ["boxes_flat", "box_idx"], ["det_boxes"], axis=0),
        helper.make_node("Transpose", ["scores"], ["scores_t"], perm=[0, 2, 1]),
        helper.make_node("Reshape", ["scores_t", "minus1"], ["scores_flat"]),
        helper.make_node("Mul", ["box_idx", "n_classes"], ["base"]),
        helper.make_node("Add", ["base", "cls_idx"], ["flat_idx"]),
        helper.make_node("Gather", ["scores_flat", "flat_idx"], ["det_scores"], axis=0),
        helper.make_node("Shape", ["selected"], ["count"]),
        helper.make_node("Reshape", ["selected", "minus1"], ["selected_flat"]),
        helper.make_node("Greater", ["cls_sig", "half"], ["hot"]),
        helper.make_node("NonZero", ["hot"], ["hot_idx"]),
        helper.make_node("Transpose", ["hot_idx"], ["hot_pos"], perm=[1, 0]),
    ]
    inits.append(numpy_helper.from_array(np.array(CLASSES, np.int64), "n_classes"))
    graph = helper.make_graph(
        nodes, "detection_head",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, C, H, W]),
         helper.make_tensor_value_info("score_thr", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("det_boxes", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("det_scores", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("cls_idx", TensorProto.INT64, None),
         helper.make_tensor_value_info("selected", TensorProto.INT64, None),
         helper.make_tensor_value_info("count", TensorProto.INT64, None),
         helper.make_tensor_value_info("selected_flat", TensorProto.INT64, None),
         helper.make_tensor_value_info("hot_pos", TensorProto.INT64, None),
         helper.make_tensor_value_info("cls_map", TensorProto.FLOAT, None)],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    return model


def loop_body():
    """Iteration i: [width * height, score] of kept box i (read from the
    outer graph by name) appended to the carried [i, 2] tensor."""
    cst = lambda out, v: helper.make_node(  # noqa: E731
        "Constant", [], [out], value=numpy_helper.from_array(np.array(v), out + "_v"))
    nodes = [
        cst("two", np.array(2, np.int64)), cst("three", np.array(3, np.int64)),
        cst("ax_0", np.array([0], np.int64)),
        helper.make_node("Gather", ["det_boxes", "i"], ["box"], axis=0),
        helper.make_node("Gather", ["box", "two"], ["bw"], axis=0),
        helper.make_node("Gather", ["box", "three"], ["bh"], axis=0),
        helper.make_node("Mul", ["bw", "bh"], ["area"]),
        helper.make_node("Gather", ["det_scores", "i"], ["score"], axis=0),
        helper.make_node("Unsqueeze", ["area", "ax_0"], ["area1"]),
        helper.make_node("Unsqueeze", ["score", "ax_0"], ["score1"]),
        helper.make_node("Concat", ["area1", "score1"], ["row"], axis=0),
        helper.make_node("Unsqueeze", ["row", "ax_0"], ["row1"]),
        helper.make_node("Concat", ["acc_in", "row1"], ["acc_out"], axis=0),
        helper.make_node("Identity", ["cond_in"], ["cond_out"]),
    ]
    return helper.make_graph(
        nodes, "per_box_body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [None, 2])])


def build_guarded_model():
    """torchvision's `if boxes.numel() == 0: return empty` before batched NMS,
    as its TorchScript export writes it (an If on a data-dependent shape)."""
    rng = np.random.default_rng(9)
    wb = rng.normal(0, 0.5, (4, C, 1, 1)).astype(np.float32)
    ws = rng.normal(0, 0.8, (1, C, 1, 1)).astype(np.float32)
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    inits = [
        numpy_helper.from_array(wb, "w_box"),
        numpy_helper.from_array(ws, "w_cls"),
        i64("box_shape", [4, N]), i64("minus1", [-1]), i64("zero", 0),
        i64("max_out", [N]), numpy_helper.from_array(np.array([0.3], np.float32), "iou"),
        numpy_helper.from_array(np.zeros((0, 2), np.float32), "acc0"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w_box"], ["box_map"]),
        helper.make_node("Reshape", ["box_map", "box_shape"], ["box_cn"]),
        helper.make_node("Transpose", ["box_cn"], ["boxes"], perm=[1, 0]),
        helper.make_node("Conv", ["x", "w_cls"], ["cls_map"]),
        helper.make_node("Sigmoid", ["cls_map"], ["cls_sig"]),
        helper.make_node("Reshape", ["cls_sig", "minus1"], ["scores"]),
        helper.make_node("Greater", ["scores", "score_thr"], ["hot"]),
        helper.make_node("NonZero", ["hot"], ["hot_nz"]),
        helper.make_node("Reshape", ["hot_nz", "minus1"], ["hot_idx"]),
        helper.make_node("Gather", ["boxes", "hot_idx"], ["cand_boxes"], axis=0),
        helper.make_node("Gather", ["scores", "hot_idx"], ["cand_scores"], axis=0),
        helper.make_node("Shape", ["cand_boxes"], ["cand_shape"]),
        helper.make_node("ReduceProd", ["cand_shape"], ["cand_numel"], keepdims=0),
        helper.make_node("Equal", ["cand_numel", "zero"], ["is_empty"]),
        helper.make_node("Cast", ["is_empty"], ["cond"], to=TensorProto.BOOL),
    ]
    then_g = helper.make_graph(
        [helper.make_node("Constant", [], ["none"], value=numpy_helper.from_array(
            np.zeros(0, np.int64), "none_v"))],
        "then", [], [helper.make_tensor_value_info("none", TensorProto.INT64, [0])])
    cst = lambda out, v: helper.make_node(  # noqa: E731
        "Constant", [], [out], value=numpy_helper.from_array(np.array(v, np.int64), out + "_v"))
    else_g = helper.make_graph(
        [cst("ax0", [0]), cst("ax01", [0, 1]), cst("col", 2),
         helper.make_node("Unsqueeze", ["cand_boxes", "ax0"], ["nms_boxes"]),
         helper.make_node("Unsqueeze", ["cand_scores", "ax01"], ["nms_scores"]),
         helper.make_node("NonMaxSuppression", ["nms_boxes", "nms_scores", "max_out", "iou"],
                          ["sel"], center_point_box=1),
         helper.make_node("Gather", ["sel", "col"], ["keep"], axis=1)],
        "else", [], [helper.make_tensor_value_info("keep", TensorProto.INT64, [-1])])
    nodes += [
        helper.make_node("If", ["cond"], ["kept"], then_branch=then_g, else_branch=else_g),
        helper.make_node("Gather", ["cand_boxes", "kept"], ["det_boxes"], axis=0),
        helper.make_node("Gather", ["cand_scores", "kept"], ["det_scores"], axis=0),
        # Faster R-CNN's next step: features of each region kept (RoiAlign of
        # opset 10: output_half_pixel, as torchvision's aligned=False).
        helper.make_node("Mul", ["kept", "zero"], ["roi_batch"]),
        helper.make_node("RoiAlign", ["x", "det_boxes", "roi_batch"], ["pooled"],
                         output_height=2, output_width=3, sampling_ratio=2, spatial_scale=0.5),
        # Mask R-CNN's last step: a Loop over the boxes kept (as many
        # iterations as boxes, none when none is kept) that concatenates a
        # value per box onto a carried tensor.
        helper.make_node("Shape", ["kept"], ["kept_shape"]),
        helper.make_node("Gather", ["kept_shape", "zero"], ["trips"], axis=0),
        helper.make_node("Loop", ["trips", "", "acc0"], ["per_box"], body=loop_body()),
    ]
    graph = helper.make_graph(
        nodes, "guarded_nms",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, C, H, W]),
         helper.make_tensor_value_info("score_thr", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("det_boxes", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("det_scores", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("kept", TensorProto.INT64, None),
         helper.make_tensor_value_info("cand_scores", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("pooled", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("per_box", TensorProto.FLOAT, None)],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    return model


def write_case(case_dir, model, count_output=3):
    os.makedirs(case_dir)
    onnx.save(model, os.path.join(case_dir, "model.onnx"))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    outs = [o.name for o in model.graph.output]
    rng = np.random.default_rng(11)
    counts = []
    # Score thresholds from none kept to many kept: the counts differ per run.
    for k, thr in enumerate([0.5, 0.75, 0.999, 0.9]):
        feeds = {"x": rng.normal(0, 1, (1, C, H, W)).astype(np.float32),
                 "score_thr": np.array([thr], np.float32)}
        res = sess.run(outs, feeds)
        counts.append(res[count_output].shape[0])
        d = os.path.join(case_dir, f"test_data_set_{k}")
        os.makedirs(d)
        for i, name in enumerate(["x", "score_thr"]):
            onnx.save_tensor(numpy_helper.from_array(feeds[name], name),
                             os.path.join(d, f"input_{i}.pb"))
        for i, (name, arr) in enumerate(zip(outs, res)):
            onnx.save_tensor(numpy_helper.from_array(arr, name), os.path.join(d, f"output_{i}.pb"))
    return counts


def main(argv):
    device = "cpu"
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == "--device":
            device = argv[i + 1]
            i += 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 3:
        print(__doc__)
        return 2
    node_tests, clcnn, cli_cases = args
    with tempfile.TemporaryDirectory(prefix="clcnn_detect.") as tmp:
        counts = write_case(os.path.join(tmp, "test_detection_head"), build_model())
        print(f"detections per data set (onnxruntime): {counts}")
        if len(set(counts)) < 3 or 0 not in counts:
            print("FAIL: the data sets do not vary the number of detections")
            return 1
        counts = write_case(os.path.join(tmp, "test_guarded_nms"), build_guarded_model(), 2)
        print(f"guarded NMS, boxes kept per data set (onnxruntime): {counts}")
        if len(set(counts)) < 3 or 0 not in counts:
            print("FAIL: the guarded NMS data sets do not take both branches")
            return 1
        rc = 0
        r = subprocess.run([node_tests, "--models", "1e-5", "--device", device, "--verbose", tmp],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(r.stdout, end="")
        rc |= r.returncode != 0
        r = subprocess.run([sys.executable, cli_cases, clcnn, tmp, "--device", device, "-v"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(r.stdout, end="")
        rc |= r.returncode != 0
    return 1 if rc else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
