package sc.fiji.sd.model;

import java.nio.file.Path;
import java.util.Set;

import sc.fiji.sd.onnx.OnnxGraph;

/**
 * How much a UNet shrinks its input, read from its ONNX graph: the product of the strides of its strided
 * convolutions (a diffusers UNet has one stride-2 {@code downsamplers} convolution per down block but the last, so
 * SD 1.5's four blocks give 8). Image sizes must be multiples of 8 (the VAE) times this.
 * <p>
 * Why read the graph: exports without {@code unet/config.json} say nothing else about it, and the input shapes are
 * dynamic. The node list is read with {@link OnnxGraph}, which seeks over the weights.
 */
final class UnetDownsampling {

	/** Convolutions that shrink by their strides; ConvTranspose (up-sampling) is not one of them. */
	private static final Set<String> CONVOLUTIONS = Set.of("Conv", "FusedConv", "NhwcConv", "QLinearConv",
		"ConvInteger");

	private UnetDownsampling() {}

	/**
	 * The UNet's total down-sampling factor (1, 2, 4, 8…), or −1 when the graph has no convolution at all or cannot
	 * be read (then the caller keeps its default).
	 */
	static int of(Path unetOnnx) {
		try {
			int convolutions = 0;
			long factor = 1;
			for (OnnxGraph.Node node : OnnxGraph.read(unetOnnx).nodes()) {
				if (!CONVOLUTIONS.contains(node.opType())) continue;
				convolutions++;
				long stride = 1;
				for (long s : node.intLists().getOrDefault("strides", new long[0])) stride = Math.max(stride, s);
				factor *= stride;
				if (factor > 1 << 16) return -1;
			}
			return convolutions == 0 ? -1 : (int) factor;
		}
		catch (RuntimeException e) { // StableDiffusionException included: unreadable, the factor is unknown
			return -1;
		}
	}
}
