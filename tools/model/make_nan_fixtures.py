"""Writes three tiny ONNX graphs that return NaN, with the inputs and outputs of the pipeline's components:

  /usr/bin/python3 make_nan_fixtures.py [out dir, default src/test/resources/fixtures/nan]

  unet/model.onnx         out_sample = 0.1 * sample + sqrt(timestep - 500): finite at timesteps >= 500, NaN below,
                          so a run goes wrong at a later step, not the first (how an fp16 UNet fails)
  vae_decoder/model.onnx  sample = NaN * 8x nearest upscale of latent channels 0-2 (an fp16 VAE overflow)
  vae_encoder/model.onnx  latent_sample = an 8x8 stride-8 convolution with NaN weights
  text_encoder/model.onnx last_hidden_state = NaN × the token ids, width 48 (the embedded model's); pooler_output too
  fp16-overflow/vae_decoder/model.onnx
                          an all-fp16 VAE decoder (fp16 inputs, outputs, constants) that overflows as SDXL's fp16 VAE
                          does at 1024x1024: sample = 0.25 * up + (y - y) with y = (up² + 2) * 40000 and up = the 8x
                          nearest upscale of latent channels 0-2, y taken twice through Concat and Slice (which ONNX
                          Runtime's CPU provider runs in fp16, rounding y). In fp16, y is infinite (over 65504) and
                          y - y NaN; in fp32 y - y is 0 and sample = 0.25 * up

Tests put one of them into a copy of models/tiny-sd-shapes (sc.fiji.sd.pipeline.NonFiniteValuesTest). Needs only the
onnx module (Debian python3-onnx).
"""
import os
import sys

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "src", "test", "resources", "fixtures", "nan")
F = TensorProto.FLOAT


def nchw(name, channels, h="height", w="width"):
    return helper.make_tensor_value_info(name, F, ["batch", channels, h, w])


def const(name, values, dims):
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(name + "_v", F, dims, values))


def save(graph, out, component):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="make_nan_fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(os.path.join(out, component), exist_ok=True)
    onnx.save(model, os.path.join(out, component, "model.onnx"))


def unet(out):
    nodes = [
        const("tenth", [0.1], []),
        const("threshold", [500.0], []),
        helper.make_node("Constant", [], ["shape"], value=helper.make_tensor("shape_v", TensorProto.INT64, [4],
                                                                             [-1, 1, 1, 1])),
        helper.make_node("Mul", ["sample", "tenth"], ["scaled"]),
        helper.make_node("Sub", ["timestep", "threshold"], ["below"]),
        helper.make_node("Sqrt", ["below"], ["root"]),
        helper.make_node("Reshape", ["root", "shape"], ["root4"]),
        helper.make_node("Add", ["scaled", "root4"], ["out_sample"]),
    ]
    inputs = [nchw("sample", "channels"), helper.make_tensor_value_info("timestep", F, ["batch"]),
              helper.make_tensor_value_info("encoder_hidden_states", F, ["batch", "sequence", "width"])]
    save(helper.make_graph(nodes, "nan_unet", inputs, [nchw("out_sample", 4)]), out, "unet")


def vae_decoder(out):
    nodes = [
        helper.make_node("Constant", [], ["starts"], value=helper.make_tensor("s", TensorProto.INT64, [1], [0])),
        helper.make_node("Constant", [], ["ends"], value=helper.make_tensor("e", TensorProto.INT64, [1], [3])),
        helper.make_node("Constant", [], ["axes"], value=helper.make_tensor("a", TensorProto.INT64, [1], [1])),
        const("scales", [1.0, 1.0, 8.0, 8.0], [4]),
        const("nan", [float("nan")], []),
        helper.make_node("Slice", ["latent_sample", "starts", "ends", "axes"], ["rgb"]),
        helper.make_node("Resize", ["rgb", "", "scales"], ["big"], mode="nearest"),
        helper.make_node("Mul", ["big", "nan"], ["sample"]),
    ]
    save(helper.make_graph(nodes, "nan_vae_decoder", [nchw("latent_sample", "channels")],
                           [nchw("sample", 3, "height_out", "width_out")]), out, "vae_decoder")


def vae_encoder(out):
    weight = helper.make_tensor("weight", F, [4, 3, 8, 8], [float("nan")] * (4 * 3 * 8 * 8))
    nodes = [helper.make_node("Conv", ["sample", "weight"], ["latent_sample"], kernel_shape=[8, 8], strides=[8, 8])]
    save(helper.make_graph(nodes, "nan_vae_encoder", [nchw("sample", "channels")],
                           [nchw("latent_sample", 4, "height_latent", "width_latent")], initializer=[weight]),
         out, "vae_encoder")


def vae_decoder_fp16_overflow(out):
    H = TensorProto.FLOAT16

    def half(name, values, dims):
        return helper.make_node("Constant", [], [name], value=helper.make_tensor(name + "_v", H, dims, values))

    nodes = [
        helper.make_node("Constant", [], ["starts"], value=helper.make_tensor("s", TensorProto.INT64, [1], [0])),
        helper.make_node("Constant", [], ["ends"], value=helper.make_tensor("e", TensorProto.INT64, [1], [3])),
        helper.make_node("Constant", [], ["axes"], value=helper.make_tensor("a", TensorProto.INT64, [1], [1])),
        const("scales", [1.0, 1.0, 8.0, 8.0], [4]),
        half("two", [2.0], []),
        half("large", [40000.0], []),
        half("quarter", [0.25], []),
        helper.make_node("Slice", ["latent_sample", "starts", "ends", "axes"], ["rgb"]),
        helper.make_node("Resize", ["rgb", "", "scales"], ["up"], mode="nearest"),
        helper.make_node("Mul", ["up", "up"], ["square"]),
        helper.make_node("Add", ["square", "two"], ["positive"]),
        helper.make_node("Mul", ["positive", "large"], ["y"]),
        # y twice through Concat and Slice, which ONNX Runtime's CPU provider runs in fp16 (it runs the arithmetic in
        # fp32 between inserted casts): y is rounded to fp16 there, as on a GPU that computes in fp16
        helper.make_node("Concat", ["y", "y"], ["both"], axis=1),
        helper.make_node("Constant", [], ["three"], value=helper.make_tensor("t", TensorProto.INT64, [1], [3])),
        helper.make_node("Constant", [], ["six"], value=helper.make_tensor("x", TensorProto.INT64, [1], [6])),
        helper.make_node("Slice", ["both", "starts", "ends", "axes"], ["first"]),
        helper.make_node("Slice", ["both", "three", "six", "axes"], ["second"]),
        helper.make_node("Sub", ["first", "second"], ["zero"]),
        helper.make_node("Mul", ["up", "quarter"], ["image"]),
        helper.make_node("Add", ["image", "zero"], ["sample"]),
    ]
    inputs = [helper.make_tensor_value_info("latent_sample", H, ["batch", 4, "height", "width"])]
    outputs = [helper.make_tensor_value_info("sample", H, ["batch", 3, "height_out", "width_out"])]
    save(helper.make_graph(nodes, "fp16_overflow_vae_decoder", inputs, outputs),
         os.path.join(out, "..", "fp16-overflow"), "vae_decoder")


def text_encoder(out, width=48):
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["ids"], to=F),
        helper.make_node("Constant", [], ["last"], value=helper.make_tensor("l", TensorProto.INT64, [1], [-1])),
        helper.make_node("Unsqueeze", ["ids", "last"], ["ids3"]),
        helper.make_node("Constant", [], ["wide"], value=helper.make_tensor("w", TensorProto.INT64, [3], [1, 1, width])),
        helper.make_node("Expand", ["ids3", "wide"], ["hidden"]),
        const("nan", [float("nan")], []),
        helper.make_node("Mul", ["hidden", "nan"], ["last_hidden_state"]),
        helper.make_node("ReduceMax", ["last_hidden_state"], ["pooler_output"], axes=[1], keepdims=0),
    ]
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT32, ["batch", "sequence"])]
    outputs = [helper.make_tensor_value_info("last_hidden_state", F, ["batch", "sequence", width]),
               helper.make_tensor_value_info("pooler_output", F, ["batch", width])]
    save(helper.make_graph(nodes, "nan_text_encoder", inputs, outputs), out, "text_encoder")


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    unet(target)
    vae_decoder(target)
    vae_encoder(target)
    text_encoder(target)
    vae_decoder_fp16_overflow(target)
    print("wrote", os.path.abspath(target))
