package sc.fiji.sd.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.onnx.SessionFactory;
import sc.fiji.sd.onnx.Tensors;

/**
 * A tiny latent decoder in the TAESD layout (madebyollin/taesd): a few convolutions instead of the VAE decoder, many
 * times faster, a little less faithful; for live previews and, on request, the final images.
 * <p>
 * Conventions (TAESD's, and diffusers' {@code AutoencoderTiny}, whose scaling factor is 1): the input is the latents
 * as the UNet holds them, not divided by the VAE's scaling factor as the full decoder's input is; the output is the
 * image in about [0, 1] for TAESD's own {@code taesd_decoder/model.onnx}, and in about [−1, 1] for a diffusers
 * {@code vae_decoder/} whose {@code config.json} names {@code AutoencoderTiny}.
 */
public final class TinyDecoder implements AutoCloseable {

	private static final String HELP = "Give a folder with taesd_decoder/model.onnx (a TAESD decoder exported to ONNX) "
		+ "or vae_decoder/model.onnx and config.json of a diffusers AutoencoderTiny, e.g. models/tiny-sd-shapes-taesd.";

	private final Path folder;
	private final OnnxComponent component;
	private final boolean zeroToOne;

	private TinyDecoder(Path folder, OnnxComponent component, boolean zeroToOne) {
		this.folder = folder;
		this.component = component;
		this.zeroToOne = zeroToOne;
	}

	/** The decoder in {@code folder} (TAESD or diffusers layout), checked to take 4-channel latents. */
	public static TinyDecoder open(Path folder, RuntimeOptions options) {
		Path file = file(folder);
		boolean zeroToOne = file.getParent().getFileName().toString().equals("taesd_decoder");
		SessionFactory sessions = new SessionFactory(options);
		OnnxComponent c = new OnnxComponent("tiny decoder", file, sessions.open(file, SessionMemory.ARENA), sessions
			.cpuArena(SessionMemory.ARENA));
		try {
			String in = c.inputNamed("latent_sample", "latents", "input", "x");
			long[] shape = c.inputShape(in);
			if (c.inputNames().size() != 1 || c.outputNames().size() != 1 || shape.length != 4 || shape[1] > 0
				&& shape[1] != 4)
				throw new StableDiffusionException(file + " does not take one [batch, 4, height, width] latent and give "
					+ "one image, as a tiny decoder for Stable Diffusion 1.x/2.x does. " + HELP);
			return new TinyDecoder(folder, c, zeroToOne);
		}
		catch (RuntimeException e) {
			c.close();
			throw e;
		}
	}

	/**
	 * The decoder's ONNX file in the folder (checked without a session: what Settings and the command line check
	 * first), or a message that says what the folder lacks; a {@code vae_decoder/} must be a diffusers AutoencoderTiny.
	 */
	public static Path file(Path folder) {
		if (!Files.isDirectory(folder))
			throw new StableDiffusionException("The tiny decoder folder " + folder + " does not exist. " + HELP);
		Path taesd = folder.resolve("taesd_decoder").resolve("model.onnx");
		if (Files.isRegularFile(taesd)) return taesd;
		Path file = folder.resolve("vae_decoder").resolve("model.onnx");
		if (Files.isRegularFile(file)) {
			Path config = file.resolveSibling("config.json");
			String kind = Files.isRegularFile(config) ? StableDiffusionModel.string(StableDiffusionModel.readJson(
				config), "_class_name", "") : "";
			if (!kind.equals("AutoencoderTiny")) throw new StableDiffusionException(file.getParent() + " is "
				+ (kind.isEmpty() ? "not marked as a tiny decoder (no config.json naming AutoencoderTiny)"
					: "the decoder of a full VAE (" + kind + "), not a tiny decoder") + ". " + HELP);
			return file;
		}
		throw new StableDiffusionException(folder + " holds no taesd_decoder/model.onnx or vae_decoder/model.onnx. "
			+ HELP);
	}

	public Path folder() {
		return folder;
	}

	/** Whether the decoder gives images in [0, 1] (TAESD) rather than [−1, 1] (diffusers). */
	public boolean zeroToOne() {
		return zeroToOne;
	}

	/**
	 * Decodes image {@code index} of a batch of latents as the UNet holds them (batch × 4 × h × w, flattened NCHW).
	 *
	 * @return [1, 3, 8h, 8w] in about [−1, 1], as the VAE decoder gives it
	 */
	public float[] decode(float[] latents, int index, int latentW, int latentH) {
		int plane = latentW * latentH;
		float[] one = java.util.Arrays.copyOfRange(latents, index * 4 * plane, (index + 1) * 4 * plane);
		String in = component.inputNames().iterator().next();
		String out = component.outputNames().iterator().next();
		int width = latentW * 8, height = latentH * 8;
		try (OnnxTensor input = Tensors.create(component.inputType(in), one, new long[] { 1, 4, latentH, latentW });
			Tensors.Reusable output = new Tensors.Reusable(component.outputType(out), new long[] { 1, 3, height,
				width });
			OrtSession.Result r = component.run(Map.of(in, input), Map.of(out, output.tensor()), true))
		{
			float[] nchw = new float[3 * width * height];
			output.get(nchw);
			if (zeroToOne) for (int i = 0; i < nchw.length; i++)
				nchw[i] = nchw[i] * 2 - 1;
			return nchw;
		}
		catch (OrtException e) {
			throw new IllegalStateException("The tiny decoder failed: " + e.getMessage(), e);
		}
	}

	@Override
	public void close() {
		component.close();
	}

	/** For a message: the folder and its layout. */
	@Override
	public String toString() {
		return folder + (zeroToOne ? " (TAESD)" : " (diffusers AutoencoderTiny)");
	}
}
