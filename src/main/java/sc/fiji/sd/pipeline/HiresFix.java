package sc.fiji.sd.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.image.Lanczos;
import sc.fiji.sd.image.Resize;
import sc.fiji.sd.model.MemoryEstimate;
import sc.fiji.sd.model.ModelInfo;
import sc.fiji.sd.onnx.CfgMode;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;
import sc.fiji.sd.provenance.ParametersText;
import sc.fiji.sd.provenance.Provenance;

/**
 * AUTOMATIC1111's "hires fix" for text to image: generate at the request's size (the first pass), upscale each image
 * by a factor in pixel space, and run image to image on it at the hires denoising strength, so a large image keeps
 * the composition the model makes at its own size.
 * <p>
 * Built on {@link StableDiffusionPipeline}'s public {@code generate}: text to image, then image to image of the
 * upscaled pixels (VAE-encoded by the pipeline). A1111's default "Latent" upscaler resizes the latents instead; the
 * pipeline does not hand out latents, so the upscalers here are A1111's pixel ones, "Lanczos" and "Nearest".
 * <p>
 * Each final image is made with its first-pass seed (and variation seed), one at a time; its parameters text is the
 * first pass's with {@code Denoising strength}, {@code Hires upscale}, {@code Hires steps} (when not 0) and
 * {@code Hires upscaler} added, as A1111 writes them, so {@link #options(String)} and {@link ParametersReplay} make
 * it again.
 */
public final class HiresFix {

	public static final String LANCZOS = "Lanczos";
	public static final String NEAREST = "Nearest";
	/** A1111's slider goes to 4. */
	public static final double MAX_SCALE = 4;

	/**
	 * @param scale upscale factor (1 = off), up to {@link #MAX_SCALE}
	 * @param steps steps of the second pass; 0 = the request's steps
	 * @param strength denoising strength of the second pass, 0 … 1
	 * @param upscaler {@link #LANCZOS} or {@link #NEAREST}
	 */
	public record Options(double scale, int steps, double strength, String upscaler) {
		public static final Options OFF = new Options(1, 0, 0.7, LANCZOS);

		public boolean active() {
			return scale > 1;
		}

		/** The checks that need no model: a message that names the value and the range. */
		public Options validate() {
			if (!(scale >= 1 && scale <= MAX_SCALE)) {
				throw new StableDiffusionException("Hires upscale must be between 1 (off) and " + Provenance.number(MAX_SCALE)
					+ ", not " + scale + ".");
			}
			if (steps < 0 || steps > 1000) {
				throw new StableDiffusionException("Hires steps must be between 0 (the same as steps) and 1000, not "
					+ steps + ".");
			}
			if (!(strength >= 0 && strength <= 1)) {
				throw new StableDiffusionException("Hires denoising strength must be between 0 and 1, not " + strength
					+ " (0 keeps the upscaled first pass, 1 ignores it).");
			}
			upscalerName();
			return this;
		}

		/** The upscaler's A1111 name, matched without regard to case. */
		String upscalerName() {
			String u = upscaler == null ? LANCZOS : upscaler.trim();
			for (String known : List.of(LANCZOS, NEAREST)) if (known.equalsIgnoreCase(u)) return known;
			throw new StableDiffusionException("Unknown hires upscaler \"" + u + "\"; valid names are: " + LANCZOS
				+ ", " + NEAREST + " (A1111's latent upscalers are not available here).");
		}
	}

	private HiresFix() {}

	/** The hires options a parameters text names, or {@link Options#OFF}. */
	public static Options options(String parameters) {
		ParametersText text = ParametersText.parse(parameters);
		String scale = text.get("Hires upscale");
		if (scale == null) return Options.OFF;
		String steps = text.get("Hires steps"), strength = text.get("Denoising strength");
		String upscaler = text.get("Hires upscaler");
		return new Options(ParametersReplay.number("Hires upscale", scale),
			steps == null ? 0 : (int) ParametersReplay.number("Hires steps", steps),
			strength == null ? Options.OFF.strength() : ParametersReplay.number("Denoising strength", strength),
			upscaler == null ? LANCZOS : upscaler);
	}

	/** The final size for a first pass of {@code size}: {@code size × scale}, down to the model's size step. */
	static int target(int size, double scale, int step) {
		return Math.max(step, (int) (size * scale) / step * step);
	}

	/** Runs text to image with the hires fix, keeping the images. */
	public static GenerationResult generate(StableDiffusionPipeline pipeline, GenerationRequest request,
		Options options, ProgressListener listener)
	{
		List<GeneratedImage> images = new ArrayList<>();
		GenerationResult r = generate(pipeline, request, options, listener, images::add);
		return new GenerationResult(images, r.interrupted(), r.seconds());
	}

	/**
	 * Runs text to image with the hires fix; each final image goes to {@code sink}. Without the fix (scale 1) this is
	 * the pipeline's own generate. A final size the memory cannot hold is refused before the first pass.
	 */
	public static GenerationResult generate(StableDiffusionPipeline pipeline, GenerationRequest request,
		Options options, ProgressListener listener, Consumer<GeneratedImage> sink)
	{
		if (!options.validate().active()) return pipeline.generate(request, listener, sink);
		if (request.mode() != Mode.TEXT_TO_IMAGE) {
			throw new StableDiffusionException("The hires fix is for text to image; use image to image directly.");
		}
		ProgressListener progress = listener == null ? ProgressListener.NONE : listener;
		long start = System.nanoTime();
		int[] size = finalSize(pipeline, request, options, MemoryEstimate.availableBytes());
		int tw = size[0], th = size[1];

		List<GeneratedImage> first = new ArrayList<>();
		GenerationResult firstPass = pipeline.generate(request, listener, first::add);
		if (firstPass.interrupted()) { // A1111 keeps the first pass when stopped before the second
			first.forEach(sink);
			return new GenerationResult(List.of(), true, seconds(start));
		}
		String upscaler = options.upscalerName();
		String hires = String.format(Locale.ROOT, ", Denoising strength: %s, Hires upscale: %s%s, Hires upscaler: %s",
			Provenance.number(options.strength()), Provenance.number(options.scale()),
			options.steps() == 0 ? "" : ", Hires steps: " + options.steps(), upscaler);
		for (int i = 0; i < first.size(); i++) {
			GeneratedImage low = first.get(i);
			progress.status("Hires fix: image " + (i + 1) + " of " + first.size() + ", " + tw + "x" + th);
			Img<FloatType> upscaled = upscale(low.pixels(), tw, th, upscaler);
			String variation = ParametersText.parse(low.parameters()).get("Variation seed");
			GenerationRequest second = request.toBuilder().mode(Mode.IMAGE_TO_IMAGE).initImage(upscaled).size(tw, th)
				.steps(options.steps() == 0 ? request.steps() : options.steps()).strength(options.strength())
				.seed(low.seed()).variationSeed(variation == null ? request.variationSeed() : Long.parseLong(variation))
				.batchSize(1).batchCount(1).build();
			List<GeneratedImage> done = new ArrayList<>();
			GenerationResult r = pipeline.generate(second, listener, done::add);
			for (GeneratedImage g : done) sink.accept(new GeneratedImage(g.pixels(), g.seed(), low.parameters() + hires));
			if (r.interrupted()) return new GenerationResult(List.of(), true, seconds(start));
		}
		return new GenerationResult(List.of(), false, seconds(start));
	}

	static Img<FloatType> upscale(RandomAccessibleInterval<FloatType> rgb, int width, int height, String upscaler) {
		return NEAREST.equals(upscaler) ? Resize.nearest(rgb, width, height) : Lanczos.resize(rgb, width, height);
	}

	/**
	 * The final size {w, h}, refused when over {@link Plan#MAX_SIZE} or (on the CPU) more than {@code available}
	 * bytes hold: the second pass runs one image at that size.
	 */
	static int[] finalSize(StableDiffusionPipeline pipeline, GenerationRequest request, Options options, long available) {
		ModelInfo info = pipeline.model().info();
		int w = request.width() > 0 ? request.width() : info.nativeSize();
		int h = request.height() > 0 ? request.height() : info.nativeSize();
		int tw = target(w, options.scale(), info.sizeStep()), th = target(h, options.scale(), info.sizeStep());
		Plan.checkSize("Hires width", tw, info.sizeStep());
		Plan.checkSize("Hires height", th, info.sizeStep());
		if ("CPU".equals(info.provider())) {
			boolean batchedCfg = Plan.cfg(request, info) && pipeline.cfgMode(tw, th) == CfgMode.BATCHED;
			MemoryEstimate.of(info.folder()).check(tw, th, 1, batchedCfg,
				info.sizeStep(), available, Plan.MAX_SIZE);
		}
		return new int[] { tw, th };
	}

	private static double seconds(long start) {
		return (System.nanoTime() - start) / 1e9;
	}
}
