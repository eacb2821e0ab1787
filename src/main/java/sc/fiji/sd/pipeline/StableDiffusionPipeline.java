package sc.fiji.sd.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.function.Consumer;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.onnx.VaeTiling;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.image.ImageTensors;
import sc.fiji.sd.image.Masks;
import sc.fiji.sd.model.MemoryEstimate;
import sc.fiji.sd.model.ModelInfo;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.Cancellation;
import sc.fiji.sd.onnx.CfgMode;
import sc.fiji.sd.onnx.Tensors;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;
import sc.fiji.sd.provenance.Provenance;
import sc.fiji.sd.scheduler.Scheduler;

/**
 * Stable Diffusion on ONNX Runtime: text to image, image to image and inpainting with one denoising loop.
 * <p>
 * Reproducibility: the initial noise of image {@code i} of a run is {@code new java.util.Random(seed + i)}
 * {@code .nextGaussian()} drawn in NCHW order (channel, then row, then column); stochastic samplers draw the step noise
 * of image {@code i} from a {@link SplittableRandom} seeded with {@code seed + i} ({@link PerImageNoise}), so every
 * image of a batch replays alone from its seed. The same request and seed give the same pixels on the same machine.
 * <p>
 * One pipeline per model; {@link #generate} is not meant to run concurrently on one instance.
 */
public final class StableDiffusionPipeline {

	private final StableDiffusionModel model;
	private final ModelInfo info;
	private final SchedulerFactory schedulers;
	private final AtomicLong unetCalls = new AtomicLong();
	private final AtomicLong unetSamples = new AtomicLong();
	private TextEncoder textEncoder; // created on first use: loads the tokenizer
	private volatile CfgMode cfgMode;
	private volatile VaeTiling vaeTiling;

	private MemoryEstimate memory;

	public StableDiffusionPipeline(StableDiffusionModel model) {
		this(model, DefaultSchedulers.forModel(model));
	}

	/** With a sampler factory of one's own (tests, benchmarks). */
	public StableDiffusionPipeline(StableDiffusionModel model, SchedulerFactory schedulers) {
		this.model = model;
		this.info = model.info();
		this.schedulers = schedulers;
		this.cfgMode = model.runtimeOptions().cfg();
		this.vaeTiling = model.runtimeOptions().vaeTiling();
	}

	public StableDiffusionModel model() { return model; }

	/** How CFG runs the UNet: one batch-2 call or two batch-1 calls per step (default: the model's runtime options). */
	public void setCfgMode(CfgMode mode) { this.cfgMode = mode; }

	/** When and how the VAE encodes and decodes in tiles (default: the model's runtime options). */
	public void setVaeTiling(VaeTiling options) { this.vaeTiling = options; }

	/** The CFG mode set (possibly AUTO). */
	public CfgMode cfgMode() { return cfgMode; }

	/** The CFG mode a generation of this size runs with on this model's provider (AUTO resolved). */
	public CfgMode cfgMode(int width, int height) { return cfgMode.resolve(info.provider(), (width / 8) * (height / 8)); }

	/** How many times the UNet ran since this pipeline was made (CFG runs both halves in one call). */
	public long unetCalls() { return unetCalls.get(); }

	/** How many latents the UNet denoised in those calls: its batch sizes summed (2 per image and step with CFG). */
	public long unetSamples() { return unetSamples.get(); }

	/** Runs a generation. Progress and cancellation go through {@code listener} (may be null). */
	public GenerationResult generate(GenerationRequest request, ProgressListener listener) {
		List<GeneratedImage> images = new ArrayList<>();
		GenerationResult r = generate(request, listener, images::add);
		return new GenerationResult(images, r.interrupted(), r.seconds());
	}

	/**
	 * Runs a generation and hands each image to {@code sink} as soon as it is decoded, keeping none: a front end writes
	 * them as they finish, so a long batch needs memory for one batch only. The result's image list is empty.
	 */
	public GenerationResult generate(GenerationRequest request, ProgressListener listener, Consumer<GeneratedImage> sink) {
		ProgressListener progress = listener == null ? ProgressListener.NONE : listener;
		long start = System.nanoTime();
		Plan plan = Plan.of(request, info);
		checkMemory(plan);
		Scheduler probe = schedulers.create(request.scheduler(), new SplittableRandom(0)); // fails early on a bad name
		if (plan.mode != Mode.TEXT_TO_IMAGE && Start.runsNoStep(plan)) return unchanged(request, plan, probe, start, sink);

		progress.status("Encoding the prompt");
		TextEncoder.Conditioning text = textEncoder().encode(request.prompt(), request.negativePrompt(), plan.cfg);
		NonFinite.checkTextEncoder(text.prompt());
		NonFinite.checkTextEncoder(text.negative());
		Source source = plan.mode == Mode.TEXT_TO_IMAGE && !info.inpainting() ? null : source(plan, request, progress);

		List<GeneratedImage> none = List.of();
		int delivered = 0;
		int perBatch = request.batchSize();
		int total = perBatch * request.batchCount();
		Cancellation cancellation = new Cancellation(); // stops a UNet call in flight when the listener cancels
		try (Conditioned unetText = new Conditioned(plan, text, perBatch, cfgMode(plan.width, plan.height) == CfgMode.SEPARATE);
			CancelWatch watch = new CancelWatch(progress, cancellation))
		{
			for (int b = 0; b < request.batchCount(); b++) {
				long seed = plan.seed + (long) b * perBatch;
				Batch batch = denoise(plan, unetText, source, seed, b * perBatch, total, progress, cancellation);
				// Cancelled before a later batch took its first step: the finished images are the result.
				if (batch.interrupted && batch.stepsDone == 0 && delivered > 0) {
					return new GenerationResult(none, true, seconds(start));
				}
				for (int i = 0; i < perBatch; i++) {
					progress.status("Decoding image " + (b * perBatch + i + 1) + " of " + total);
					Img<FloatType> pixels = decode(batch.latents, i, plan);
					if (source != null && source.pasteAlpha != null) {
						pixels = Masks.paste(request.initImage(), pixels, source.pasteAlpha);
					}
					int image = b * perBatch + i;
					String parameters = Provenance.parameters(request.prompt(), plan.cfg ? request.negativePrompt() : "",
						request.steps(), probe.displayName(), request.guidance(), plan.variation.seed(image), plan.width,
						plan.height, info.name(), plan.mode == Mode.TEXT_TO_IMAGE ? null : request.strength(),
						plan.variation.parameters(image));
					sink.accept(new GeneratedImage(pixels, plan.variation.seed(image), parameters));
					delivered++;
				}
				if (batch.interrupted) return new GenerationResult(none, true, seconds(start));
			}
		}
		catch (OrtException e) {
			throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
		}
		return new GenerationResult(none, false, seconds(start));
	}

	/** Refuses, before any work, a size or batch the CPU's memory cannot hold ({@link MemoryEstimate}). */
	private void checkMemory(Plan plan) {
		if (!"CPU".equals(info.provider())) return;
		if (memory == null) memory = MemoryEstimate.of(info.folder());
		memory.check(plan.width, plan.height, plan.batch, plan.cfg && cfgMode(plan.width, plan.height) == CfgMode.BATCHED,
			info.sizeStep(), MemoryEstimate.availableBytes(), Plan.MAX_SIZE);
	}

	/**
	 * Image to image or inpainting where no denoising step runs (strength 0, or {@code steps × strength < 1}): the
	 * input image itself, every image of the batch, without running any model (the VAE round trip would blur it).
	 */
	private GenerationResult unchanged(GenerationRequest request, Plan plan, Scheduler sampler, long start,
		Consumer<GeneratedImage> sink)
	{
		int total = request.batchSize() * request.batchCount();
		for (int i = 0; i < total; i++) {
			String parameters = Provenance.parameters(request.prompt(), plan.cfg ? request.negativePrompt() : "",
				request.steps(), sampler.displayName(), request.guidance(), plan.variation.seed(i), plan.width, plan.height,
				info.name(), request.strength(), plan.variation.parameters(i));
			sink.accept(new GeneratedImage(ImageTensors.copy(request.initImage()), plan.variation.seed(i), parameters));
		}
		return new GenerationResult(List.of(), false, seconds(start));
	}

	/** One batch: the latents after the last finished step, whether the run was cancelled, and steps done. */
	private record Batch(float[] latents, boolean interrupted, int stepsDone) {}

	/**
	 * The denoising loop for one batch of {@code plan.batch} images with seeds {@code seed, seed + 1, …}.
	 */
	private Batch denoise(Plan plan, Conditioned text, Source source, long seed, int firstImage, int totalImages,
		ProgressListener progress, Cancellation cancellation) throws OrtException
	{
		int n = plan.batch, plane = plan.latentW * plan.latentH, latentSize = n * 4 * plane;
		Scheduler scheduler = schedulers.create(plan.schedulerName, plan.variation.stepNoise(firstImage, n, 4 * plane));
		scheduler.setTimesteps(plan.steps);
		double[] timesteps = scheduler.timesteps();
		float[] noise = plan.variation.initialNoise(firstImage, n, 4, plan.latentH, plan.latentW);

		// Where the loop starts and what it starts from (text to image: pure noise).
		Start s = Start.of(plan, scheduler.config().stepsOffset(), scheduler.order(), timesteps.length);
		float[] latents;
		float[] original = source == null || source.latents == null ? null : repeat(source.latents, n);
		if (original == null || s.fromPureNoise) latents = scale(noise, scheduler.initNoiseSigma());
		else if (s.first >= timesteps.length) latents = original.clone(); // strength 0: no denoising at all
		else latents = scheduler.addNoise(original, noise, timesteps[s.noiseIndex]);
		boolean blendLatents = plan.mode == Mode.INPAINT && !info.inpainting(); // 4-channel model: legacy blending

		int stepsToRun = timesteps.length - s.first;
		long[] latentShape = { n, 4, plan.latentH, plan.latentW };
		long loopStart = System.nanoTime();
		try (UnetCall unet = new UnetCall(plan, text, n)) {
			for (int i = s.first; i < timesteps.length; i++) {
				if (progress.isCanceled() || cancellation.isCancelled()) return new Batch(latents, true, i - s.first);
				double t = timesteps[i];
				float[] modelInput = scheduler.scaleModelInput(latents, t);
				// the last step hands the UNet's working memory back before the VAE decoder needs its own (a cancelled
				// batch leaves it with the session until the next batch's last step or until the model is closed)
				float[] noisePrediction;
				try {
					noisePrediction = unet.run(modelInput, t, source, i == timesteps.length - 1, cancellation);
				}
				catch (Cancellation.CancelledException e) { // terminated mid-call: the last finished step is the result
					return new Batch(latents, true, i - s.first);
				}
				NonFinite.checkUnet(noisePrediction, i - s.first + 1, stepsToRun);
				latents = scheduler.step(noisePrediction, t, latents);
				NonFinite.checkLatents(latents, scheduler.displayName(), i - s.first + 1, stepsToRun);
				if (blendLatents) { // keep the unmasked region on the original's noise level for the next step
					float[] known = i + 1 < timesteps.length ? scheduler.addNoise(original, noise, timesteps[i + 1]) : original;
					blend(latents, known, source.latentMask, n, plane);
				}
				int done = i - s.first + 1;
				progress.stepFinished(new StepProgress(firstImage, totalImages, done, stepsToRun,
					(System.nanoTime() - loopStart) / 1e9 / done, latents, scheduler.predictedOriginalSample(),
					latentShape.clone()));
			}
		}
		if (latents.length != latentSize) throw new IllegalStateException("Scheduler changed the latent size");
		return new Batch(latents, false, stepsToRun);
	}

	/**
	 * Where the loop starts for image to image and inpainting, after diffusers' ONNX img2img pipeline:
	 * {@code initSteps = min(int(steps × strength) + steps_offset, steps)}, the input is noised to
	 * {@code timesteps[−initSteps]} and the loop runs from {@code steps − initSteps + steps_offset}. Strength 1 starts
	 * from pure noise (the input is ignored); no step to run (strength 0) means the input is returned as it is.
	 */
	record Start(int first, int noiseIndex, boolean fromPureNoise) {
		/**
		 * @param stepsOffset the scheduler config's {@code steps_offset} (1 for SD 1.5)
		 * @param order timesteps per step: 2 for Heun (diffusers' scheduler.order), else 1
		 * @param count length of the scheduler's timestep list (PNDM lists one extra at the start)
		 */
		/** Image to image or inpainting that runs no denoising step: {@code int(steps × strength) == 0}. */
		static boolean runsNoStep(Plan plan) {
			return plan.strength < 1.0 && (int) (plan.steps * plan.strength) == 0;
		}

		static Start of(Plan plan, int stepsOffset, int order, int count) {
			if (plan.mode == Mode.TEXT_TO_IMAGE || plan.strength >= 1.0) return new Start(0, 0, true);
			int runSteps = (int) (plan.steps * plan.strength);
			if (runSteps == 0) return new Start(count, 0, false); // strength 0: generate returns the input before this
			int initSteps = Math.min(runSteps + stepsOffset, plan.steps);
			int first = Math.max(plan.steps - initSteps + stepsOffset, 0) * order;
			int noiseIndex = Math.max(0, count - initSteps * order);
			return new Start(Math.min(first, count), noiseIndex, false);
		}
	}

	/** Classifier-free guidance: {@code u + g·(c − u)} over the [uncond | cond] halves of the UNet batch. */
	static void guide(float[] prediction, float guidance, float[] out) {
		int half = out.length;
		for (int j = 0; j < half; j++) {
			float u = prediction[j];
			out[j] = u + guidance * (prediction[half + j] - u);
		}
	}

	/** Legacy inpainting: {@code latents = known·(1 − mask) + latents·mask} per image. */
	static void blend(float[] latents, float[] known, float[] latentMask, int images, int plane) {
		for (int b = 0; b < images; b++) {
			for (int c = 0; c < 4; c++) {
				int base = (b * 4 + c) * plane;
				for (int p = 0; p < plane; p++) {
					float m = latentMask[p];
					latents[base + p] = known[base + p] * (1 - m) + latents[base + p] * m;
				}
			}
		}
	}

	/** Initial noise: image i from {@code new Random(seed + i).nextGaussian()}, NCHW order. */
	static float[] noise(long seed, int images, int perImage) {
		float[] out = new float[images * perImage];
		for (int i = 0; i < images; i++) {
			Random r = new Random(seed + i);
			for (int k = 0; k < perImage; k++) out[i * perImage + k] = (float) r.nextGaussian();
		}
		return out;
	}

	/**
	 * LCM guidance embedding, as diffusers' LatentConsistencyModelPipeline computes it: {@code w = (g − 1)·1000};
	 * {@code [sin(w·f_k), cos(w·f_k)]} with {@code f_k = exp(−k·ln(10000)/(dim/2 − 1))}, zero-padded to an odd width.
	 */
	static float[] guidanceEmbedding(double guidance, int dim) {
		double w = (guidance - 1) * 1000.0;
		int half = dim / 2;
		float[] out = new float[dim];
		double step = Math.log(10000.0) / (half - 1);
		for (int k = 0; k < half; k++) {
			float f = (float) Math.exp(-k * step);
			double arg = (float) w * f;
			out[k] = (float) Math.sin(arg);
			out[half + k] = (float) Math.cos(arg);
		}
		return out;
	}

	private static float[] scale(float[] v, double s) {
		float[] out = new float[v.length];
		for (int i = 0; i < v.length; i++) out[i] = (float) (v[i] * s);
		return out;
	}

	private static float[] repeat(float[] one, int times) {
		float[] out = new float[one.length * times];
		for (int i = 0; i < times; i++) System.arraycopy(one, 0, out, i * one.length, one.length);
		return out;
	}

	private static double seconds(long start) {
		return (System.nanoTime() - start) / 1e9;
	}

	private synchronized TextEncoder textEncoder() {
		if (textEncoder == null) textEncoder = new TextEncoder(model);
		return textEncoder;
	}

	// ---- image to image and inpainting inputs ----

	/**
	 * What the init image and mask give the loop: the scaled latents of the image, the mask at latent size, the
	 * 9-channel UNet's extra input (mask + latents of the masked image), and the pixel-space paste weights.
	 */
	private static final class Source {
		float[] latents; // [1, 4, h, w], scaled
		float[] latentMask; // [h, w], 0/1
		float[] inpaintChannels; // [5, h, w]: mask, masked-image latents (9-channel UNet only)
		float[] pasteAlpha; // [H, W] or null
	}

	private Source source(Plan plan, GenerationRequest request, ProgressListener progress) throws StableDiffusionException {
		progress.status("Encoding the input image");
		Source s = new Source();
		int w = plan.width, h = plan.height, plane = plan.latentW * plan.latentH;
		float[] image = request.initImage() == null ? new float[3 * w * h] : ImageTensors.toNchw(request.initImage());
		NonFinite.checkInputImage(image);
		if (request.initImage() != null) s.latents = encodeImage(image, w, h);
		if (plan.mode == Mode.INPAINT) {
			float[] binary = Masks.binary(request.mask());
			s.latentMask = Masks.toLatent(request.mask(), plan.latentW, plan.latentH);
			s.pasteAlpha = Masks.featherInside(binary, w, h, request.maskFeather());
			if (info.inpainting()) {
				float[] masked = image.clone();
				Masks.maskImageTensor(masked, binary, w, h);
				s.inpaintChannels = new float[5 * plane];
				System.arraycopy(s.latentMask, 0, s.inpaintChannels, 0, plane);
				System.arraycopy(encodeImage(masked, w, h), 0, s.inpaintChannels, plane, 4 * plane);
			}
		}
		else if (info.inpainting()) {
			// An inpainting UNet used for text to image or image to image: everything is "repaint", and the masked
			// image is all mid-grey, as AUTOMATIC1111 does.
			s.inpaintChannels = new float[5 * plane];
			Arrays.fill(s.inpaintChannels, 0, plane, 1f);
			System.arraycopy(encodeImage(new float[3 * w * h], w, h), 0, s.inpaintChannels, plane, 4 * plane);
		}
		return s;
	}

	/** VAE encoder: [1, 3, H, W] in [−1, 1] → scaled latents [1, 4, H/8, W/8] (the mean for latent_parameters). */
	float[] encodeImage(float[] nchw, int width, int height) {
		if (!vaeTiling.tiles(width / 8, height / 8)) return encodeWhole(nchw, width, height);
		return TiledVae.encode(nchw, width / 8, height / 8, vaeTiling, this::encodeWhole);
	}

	/** {@link #encodeImage} in one VAE call. */
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

	/** VAE decoder of image {@code index} of the batch: latents / scale → X × Y × 3 in [0, 1]. */
	Img<FloatType> decode(float[] latents, int index, Plan plan) {
		int plane = plan.latentW * plan.latentH;
		float[] one = new float[4 * plane];
		for (int i = 0; i < one.length; i++) one[i] = (float) (latents[index * 4 * plane + i] / info.scalingFactor());
		float[] nchw = vaeTiling.tiles(plan.latentW, plan.latentH)
			? TiledVae.decode(one, plan.latentW, plan.latentH, vaeTiling, this::decodeWhole)
			: decodeWhole(one, plan.latentW, plan.latentH);
		NonFinite.checkVaeDecoder(nchw, index);
		return ImageTensors.fromNchw(nchw, 0, plan.width, plan.height);
	}

	/** One VAE decoder call: unscaled latents [1, 4, h, w] → [1, 3, H, W] in about [−1, 1]; width, height in latents. */
	private float[] decodeWhole(float[] one, int latentW, int latentH) {
		OnnxComponent vae = model.vaeDecoder();
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

	/** Decodes latents (e.g. from a {@link StepProgress}) for a preview or a test: image {@code index}, X × Y × 3. */
	public Img<FloatType> decodeLatents(float[] latents, int index, int width, int height) {
		return decode(latents, index, Plan.forSize(width, height));
	}

	/** Encodes an RGB image (X × Y × 3 in [0, 1]) and decodes it again: what image to image at strength 0 returns. */
	public Img<FloatType> vaeRoundTrip(RandomAccessibleInterval<FloatType> rgb) {
		int w = (int) rgb.dimension(0), h = (int) rgb.dimension(1);
		return decode(encodeImage(ImageTensors.toNchw(rgb), w, h), 0, Plan.forSize(w, h));
	}

	// ---- the UNet call ----

	/**
	 * The text conditioning as the UNet's encoder_hidden_states, one tensor per UNet call of a step: with CFG
	 * {@code [uncond × B, cond × B]} (batched) or {@code [uncond × B]} and {@code [cond × B]} (separate); without,
	 * {@code [cond × B]}.
	 */
	private final class Conditioned implements AutoCloseable {
		final List<Tensors.Reusable> hidden = new ArrayList<>();

		Conditioned(Plan plan, TextEncoder.Conditioning text, int images, boolean separate) throws OrtException {
			OnnxComponent unet = model.unet();
			String name = unet.inputNamed("encoder_hidden_states");
			long[] declared = unet.inputShape(name);
			int tokens = text.tokens();
			if (declared.length == 3 && declared[1] > 0 && declared[1] < tokens) {
				tokens = (int) declared[1]; // an export with a fixed 77-token axis: long prompts are cut to the first chunk
			}
			try {
				if (!plan.cfg) add(unet, name, images, tokens, text.width(), text.prompt());
				else if (separate) {
					add(unet, name, images, tokens, text.width(), text.negative());
					add(unet, name, images, tokens, text.width(), text.prompt());
				}
				else add(unet, name, images, tokens, text.width(), text.negative(), text.prompt());
			}
			catch (OrtException | RuntimeException e) {
				close();
				throw e;
			}
		}

		/** One tensor holding each of {@code halves} repeated for every image, in order. */
		private void add(OnnxComponent unet, String name, int images, int tokens, int width, float[]... halves)
			throws OrtException
		{
			int perImage = tokens * width;
			Tensors.Reusable t = new Tensors.Reusable(unet.inputType(name),
				new long[] { (long) halves.length * images, tokens, width });
			hidden.add(t);
			for (int h = 0; h < halves.length; h++) {
				for (int i = 0; i < images; i++) t.put((h * images + i) * perImage, halves[h], 0, perImage);
			}
		}

		@Override
		public void close() {
			hidden.forEach(Tensors.Reusable::close);
		}
	}

	/**
	 * One batch's UNet inputs and outputs, allocated once and refilled each step: the direct buffers behind
	 * {@code sample} and the pinned {@code out_sample} tensors are reused, so a step allocates no large Java arrays
	 * besides what the sampler returns. With CFG in separate calls, both calls share {@code sample} and each writes its
	 * own output; the prediction has the {@code [uncond, cond]} layout either way.
	 */
	private final class UnetCall implements AutoCloseable {
		final OnnxComponent unet = model.unet();
		final Plan plan;
		final Conditioned text;
		final int images, copies, plane, callBatch;
		final Tensors.Reusable sample;
		final List<Tensors.Reusable> outputs = new ArrayList<>();
		final OnnxTensor timestepCond;
		final String outputName;
		final float[] prediction;

		UnetCall(Plan plan, Conditioned text, int images) throws OrtException {
			this.plan = plan;
			this.text = text;
			this.images = images;
			this.copies = plan.cfg ? 2 : 1;
			this.plane = plan.latentW * plan.latentH;
			this.callBatch = (int) text.hidden.get(0).shape()[0];
			sample = new Tensors.Reusable(unet.inputType("sample"),
				new long[] { callBatch, info.unetInChannels(), plan.latentH, plan.latentW });
			outputName = unet.outputNamed("out_sample");
			for (int c = 0; c < text.hidden.size(); c++) {
				outputs.add(new Tensors.Reusable(unet.outputType(outputName),
					new long[] { callBatch, 4, plan.latentH, plan.latentW }));
			}
			if (info.lcm()) {
				float[] emb = guidanceEmbedding(plan.guidance, info.timestepCondDim());
				timestepCond = Tensors.create(unet.inputType("timestep_cond"), repeat(emb, callBatch),
					new long[] { callBatch, info.timestepCondDim() });
			}
			else timestepCond = null;
			prediction = new float[copies * images * 4 * plane];
		}

		/**
		 * The noise prediction (guided when CFG) for the scaled model input at timestep t; {@code last}: the batch's
		 * last step, after which the UNet session releases its working memory.
		 */
		float[] run(float[] modelInput, double t, Source source, boolean last, Cancellation cancellation)
			throws OrtException
		{
			int channels = info.unetInChannels();
			for (int k = 0; k < callBatch / images; k++) {
				for (int b = 0; b < images; b++) {
					int at = ((k * images + b) * channels) * plane;
					sample.put(at, modelInput, b * 4 * plane, 4 * plane);
					if (channels == 9) sample.put(at + 4 * plane, source.inpaintChannels, 0, 5 * plane);
				}
			}
			// [] (optimum), [B] (diffusers script; also accepts [1] and broadcasts), or a fixed [1]
			long[] declared = unet.inputShape("timestep");
			boolean scalar = declared.length == 0;
			int count = scalar ? 1 : declared[0] > 0 ? (int) declared[0] : callBatch;
			float[] tv = new float[count];
			Arrays.fill(tv, (float) t);
			try (OnnxTensor timestep = Tensors.create(unet.inputType("timestep"), tv,
				scalar ? new long[0] : new long[] { count }))
			{
				for (int c = 0; c < outputs.size(); c++) {
					Map<String, OnnxTensor> inputs = new HashMap<>();
					inputs.put("sample", sample.tensor());
					inputs.put("timestep", timestep);
					inputs.put("encoder_hidden_states", text.hidden.get(c).tensor());
					if (timestepCond != null) inputs.put("timestep_cond", timestepCond);
					Map<String, OnnxValue> pinned = Map.of(outputName, outputs.get(c).tensor());
					boolean release = last && c == outputs.size() - 1;
					try (OrtSession.Result ignored = unet.run(inputs, pinned, release, cancellation)) {
						unetCalls.incrementAndGet();
						unetSamples.addAndGet(callBatch);
					}
					outputs.get(c).get(prediction, c * callBatch * 4 * plane);
				}
			}
			// A fresh array for the sampler: multistep samplers keep earlier predictions.
			if (!plan.cfg) return Arrays.copyOf(prediction, images * 4 * plane);
			float[] guided = new float[images * 4 * plane];
			guide(prediction, (float) plan.guidance, guided);
			return guided;
		}

		@Override
		public void close() {
			sample.close();
			outputs.forEach(Tensors.Reusable::close);
			if (timestepCond != null) timestepCond.close();
		}
	}
}
