package sc.fiji.sd.pipeline;

import java.util.Arrays;
import java.util.Map;

import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.image.ImageTensors;
import sc.fiji.sd.model.ModelInfo;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.model.TinyDecoder;
import sc.fiji.sd.onnx.Tensors;
import sc.fiji.sd.onnx.VaeTiling;

/**
 * The VAE: images to scaled latents and back (or back through a tiny decoder), whole or in tiles ({@link TiledVae}), in the precision each session
 * declares (fp16 exports included), stopping on NaN or infinite outputs ({@link NonFinite}).
 */
final class VaeCodec {

	private final StableDiffusionModel model;
	private final ModelInfo info;
	private final VaeTiling tiling;
	private final TinyDecoder tiny;

	/** @param tiny decodes instead of the VAE decoder when not null */
	VaeCodec(StableDiffusionModel model, VaeTiling tiling, TinyDecoder tiny) {
		this.model = model;
		this.info = model.info();
		this.tiling = tiling;
		this.tiny = tiny;
	}

	/** VAE encoder: [1, 3, H, W] in [−1, 1] → scaled latents [1, 4, H/8, W/8] (the mean for latent_parameters). */
	float[] encode(float[] nchw, int width, int height) {
		if (!tiling.tiles(width / 8, height / 8)) return encodeWhole(nchw, width, height);
		return TiledVae.encode(nchw, width / 8, height / 8, tiling, this::encodeWhole);
	}

	/** {@link #encode} in one VAE call. */
	private float[] encodeWhole(float[] nchw, int width, int height) {
		OnnxComponent vae = model.vaeEncoder();
		String in = vae.inputNamed("sample");
		String out = info.vaeEncoderOutput();
		int plane = (width / 8) * (height / 8);
		long[] declared = vae.outputShape(out); // the channels as the export declares them, else the usual 8 or 4
		int channels = declared.length == 4 && declared[1] > 0 ? (int) declared[1] : "latent_parameters".equals(out) ? 8 : 4;
		// pinned output, as for the decoder: the arena can then be emptied entirely after the call
		try (OnnxTensor input = Tensors.create(vae.inputType(in), nchw, new long[] { 1, 3, height, width });
			Tensors.Reusable output = new Tensors.Reusable(vae.outputType(out),
				new long[] { 1, channels, height / 8, width / 8 });
			OrtSession.Result r = vae.run(Map.of(in, input), Map.of(out, output.tensor()), true))
		{
			float[] latents = new float[channels * plane];
			output.get(latents);
			NonFinite.checkVaeEncoder(latents);
			// latent_parameters: [mean(4), logvar(4)]; the mean is the first half of the channels
			float[] mean = Arrays.copyOf(latents, 4 * plane);
			for (int i = 0; i < mean.length; i++) mean[i] *= (float) info.scalingFactor();
			return mean;
		}
		catch (OrtException e) {
			throw new IllegalStateException("VAE encoder failed: " + e.getMessage(), e);
		}
	}

	/** VAE decoder of image {@code index} of a batch of latents: latents / scale → X × Y × 3 in [0, 1]. */
	Img<FloatType> decode(float[] latents, int index, int width, int height) {
		int latentW = width / 8, latentH = height / 8, plane = latentW * latentH;
		if (tiny != null) { // takes the latents as they are; no tiles needed: its cost and memory grow linearly
			float[] nchw = tiny.decode(latents, index, latentW, latentH);
			NonFinite.checkTinyDecoder(nchw, index, tiny.folder());
			return ImageTensors.fromNchw(nchw, 0, width, height);
		}
		float[] one = new float[4 * plane];
		for (int i = 0; i < one.length; i++) one[i] = (float) (latents[index * 4 * plane + i] / info.scalingFactor());
		// an fp16 decoder that overflowed (SDXL's VAE at 1024²) decodes again in fp32, and from then on in fp32
		boolean upcast = model.vaeDecoderUpcast();
		float[] nchw = decode(upcast ? model.vaeDecoderFp32() : model.vaeDecoder(), one, latentW, latentH);
		if (!upcast && NonFinite.first(nchw) >= 0 && model.vaeDecoderFp32() != null) {
			upcast = true;
			nchw = decode(model.vaeDecoderFp32(), one, latentW, latentH);
		}
		NonFinite.checkVaeDecoder(nchw, index, upcast);
		return ImageTensors.fromNchw(nchw, 0, width, height);
	}

	private float[] decode(OnnxComponent vae, float[] one, int latentW, int latentH) {
		return tiling.tiles(latentW, latentH)
			? TiledVae.decode(one, latentW, latentH, tiling, (l, w, h) -> decodeWhole(vae, l, w, h))
			: decodeWhole(vae, one, latentW, latentH);
	}

	/** One VAE decoder call: unscaled latents [1, 4, h, w] → [1, 3, H, W] in about [−1, 1]; width, height in latents. */
	private float[] decodeWhole(OnnxComponent vae, float[] one, int latentW, int latentH) {
		String in = vae.inputNamed("latent_sample");
		int width = latentW * 8, height = latentH * 8;
		String out = vae.outputNamed("sample");
		// the output is pinned (not in the session's arena), so releasing the arena after the call frees all of it
		try (OnnxTensor input = Tensors.create(vae.inputType(in), one, new long[] { 1, 4, latentH, latentW });
			Tensors.Reusable output = new Tensors.Reusable(vae.outputType(out), new long[] { 1, 3, height, width });
			OrtSession.Result r = vae.run(Map.of(in, input), Map.of(out, output.tensor()), true))
		{
			float[] nchw = new float[3 * width * height];
			output.get(nchw);
			return nchw;
		}
		catch (OrtException e) {
			throw new IllegalStateException("VAE decoder failed: " + e.getMessage(), e);
		}
	}
}
