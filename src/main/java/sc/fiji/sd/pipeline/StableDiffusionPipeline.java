package sc.fiji.sd.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;

import ai.onnxruntime.OrtException;
import sc.fiji.sd.image.ImageTensors;
import sc.fiji.sd.model.MemoryEstimate;
import sc.fiji.sd.model.ModelInfo;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.model.TinyDecoder;
import sc.fiji.sd.onnx.Cancellation;
import sc.fiji.sd.onnx.CfgMode;
import sc.fiji.sd.onnx.SessionTuning;
import sc.fiji.sd.onnx.VaeTiling;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;
import sc.fiji.sd.scheduler.Scheduler;

/**
 * Stable Diffusion on ONNX Runtime: text to image, image to image and inpainting with one denoising loop. This class
 * orchestrates: plan the request, encode the prompt ({@link TextConditioning}) and the input image
 * ({@link ImageSource}), then per batch start latents, run the loop (the UNet through {@link UnetRunner}, which feeds
 * every {@link UnetInput}, or in overlapping tiles through {@link TiledUnet}), decode ({@link VaeCodec}) and hand out
 * the images with their parameters ({@link ImageParameters}).
 * <p>
 * Reproducibility: the initial noise of image {@code i} of a run is {@code new java.util.Random(seed + i)}
 * {@code .nextGaussian()} drawn in NCHW order (channel, then row, then column); stochastic samplers draw the step noise
 * of image {@code i} from a {@link SplittableRandom} seeded with {@code seed + i} ({@link PerImageNoise}), so every
 * image of a batch replays alone from its seed. The same request and seed give the same pixels on the same machine
 * ({@code GoldenPixelsTest} holds them).
 * <p>
 * One pipeline per model; {@link #generate} is not meant to run concurrently on one instance.
 */
public final class StableDiffusionPipeline {

	private final StableDiffusionModel model;
	private final ModelInfo info;
	private final SchedulerFactory schedulers;
	private final AtomicLong unetCalls = new AtomicLong();
	private final AtomicLong unetSamples = new AtomicLong();
	private TextConditioning textConditioning; // created on first use: loads the tokenizer
	private volatile CfgMode cfgMode;
	private volatile VaeTiling vaeTiling;
	private volatile TinyDecoder tinyDecoder;
	private volatile boolean tinyFinal;
	private final List<UnetInput.Factory> unetInputs = new CopyOnWriteArrayList<>(UnetInputs.STANDARD);

	private MemoryEstimate memory;
	private volatile StableDiffusionPipeline refiner; // SDXL's refiner for a request's hand-off, or null

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

	/**
	 * A tiny decoder (owned by the caller, e.g. {@link StableDiffusionModel#tinyDecoder}) for live previews, which a
	 * listener asks for with {@link ProgressListener#wantsPreview}, and for the final images when {@code finalImages};
	 * null: none.
	 */
	public void setTinyDecoder(TinyDecoder decoder, boolean finalImages) {
		this.tinyDecoder = decoder;
		this.tinyFinal = decoder != null && finalImages;
	}

	/** The CFG mode set (possibly AUTO). */
	public CfgMode cfgMode() { return cfgMode; }

	/** The CFG mode a generation of this size runs with on this model's provider (AUTO resolved). */
	public CfgMode cfgMode(int width, int height) { return cfgMode(width, height, 1); }

	/** As {@link #cfgMode(int, int)} for {@code batch} images per UNet call: batched only where its peak fits. */
	CfgMode cfgMode(int width, int height, int batch) {
		int positions = (width / 8) * (height / 8);
		boolean fits = cfgMode == CfgMode.AUTO && "CPU".equals(info.provider())
			&& positions > CfgMode.CPU_BATCHED_MAX_POSITIONS && SessionTuning.batchedCfgFits(
			memory().bytes(width, height, 2 * batch), memory().weightBytes(), MemoryEstimate.availableBytes());
		return cfgMode.resolve(info.provider(), positions, fits);
	}

	private MemoryEstimate memory() {
		if (memory == null) memory = MemoryEstimate.of(info.folder());
		return memory;
	}

	/** How many times the UNet ran since this pipeline was made (CFG runs both halves in one call). */
	public long unetCalls() { return unetCalls.get(); }

	/** How many latents the UNet denoised in those calls: its batch sizes summed (2 per image and step with CFG). */
	public long unetSamples() { return unetSamples.get(); }

	/**
	 * Extra UNet inputs to feed besides the standard ones ({@link UnetInputs}): the factory is asked once per batch and
	 * may return null for a model that does not take its input.
	 */
	public void addUnetInput(UnetInput.Factory input) { unetInputs.add(input); }

	/**
	 * SDXL's refiner: a request with a {@link GenerationRequest#refinerSwitch() refiner switch} runs this pipeline's
	 * model for the first part of the timesteps and {@code refiner}'s for the rest, from this model's latents
	 * ({@link RefinerHandoff}); null for none.
	 */
	public void setRefiner(StableDiffusionPipeline refiner) {
		if (refiner != null) RefinerHandoff.checkPair(info, refiner.info);
		this.refiner = refiner;
	}

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
		ControlNetResiduals.check(model, request, plan, progress);
		checkMemory(plan);
		Scheduler probe = schedulers.create(request.scheduler(), new SplittableRandom(0)); // fails early on a bad name
		StableDiffusionPipeline refiner = RefinerHandoff.refinerFor(request, this.refiner);
		ImageParameters parameters = new ImageParameters(request, plan, probe.displayName(), info.name(),
			refiner == null ? null : refiner.info.name());
		if (plan.mode != Mode.TEXT_TO_IMAGE && ImageSource.Start.runsNoStep(plan)) {
			return unchanged(request, plan, parameters, start, sink);
		}

		progress.status("Encoding the prompt");
		TextEmbeddings text = textConditioning().encode(request.prompt(), request.negativePrompt(), plan.cfg);
		VaeCodec vae = vae();
		ImageSource source = ImageSource.of(plan, request, info, vae, progress);
		UnetBatch unetBatch = UnetBatch.of(model, request, plan,
			cfgMode(plan.unetWidth(), plan.unetHeight(), plan.batch) == CfgMode.SEPARATE);

		List<GeneratedImage> none = List.of();
		int delivered = 0, perBatch = request.batchSize(), total = perBatch * request.batchCount();
		Cancellation cancellation = new Cancellation(); // stops a UNet call in flight when the listener cancels
		try (TextInputs unetText = new TextInputs(model.unet(), text, unetBatch);
			CancelWatch watch = new CancelWatch(progress, cancellation);
			Refining refining = refiner == null ? null : refiner.refining(request, plan))
		{
			for (int b = 0; b < request.batchCount(); b++) {
				Denoised batch;
				try (NoisePredictor unet = plan.tileW > 0
					? new TiledUnet(model, unetBatch, plan, unetText, source.unetChannels(), unetInputs,
						this::countUnetCall, progress)
					: new UnetRunner(model, unetBatch, unetText, source.unetChannels(), unetInputs, this::countUnetCall))
				{
					batch = denoise(plan, unet, source, b * perBatch, total, progress, cancellation, refining);
				}
				if (refining != null && !batch.interrupted) {
					batch = refining.run(batch, b * perBatch, total, progress, cancellation);
				}
				VaeCodec decoder = refining != null && batch.refined ? refining.vae : vae;
				// Cancelled before a later batch took its first step: the finished images are the result.
				if (batch.interrupted && batch.stepsDone == 0 && delivered > 0) {
					return new GenerationResult(none, true, seconds(start));
				}
				for (int i = 0; i < perBatch; i++) {
					progress.status("Decoding image " + (b * perBatch + i + 1) + " of " + total);
					Img<FloatType> pixels = source.paste(decoder.decode(batch.latents, i, plan.width, plan.height));
					int image = b * perBatch + i;
					sink.accept(new GeneratedImage(pixels, plan.variation.seed(image), parameters.forImage(image)));
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

	/**
	 * One batch: the latents after the last finished step, whether the run was cancelled, steps done, the index of the
	 * next timestep to run, and whether a refiner made them.
	 */
	record Denoised(float[] latents, boolean interrupted, int stepsDone, int next, boolean refined) {}

	/**
	 * The denoising loop for one batch of {@code plan.batch} images, the run's {@code firstImage} and those after it;
	 * with {@code refining}, only the timesteps before the refiner's switch.
	 */
	private Denoised denoise(Plan plan, NoisePredictor unet, ImageSource source, int firstImage, int totalImages,
		ProgressListener progress, Cancellation cancellation, Refining refining) throws OrtException
	{
		int n = plan.batch, plane = plan.latentW * plan.latentH;
		Scheduler scheduler = schedulers.create(plan.schedulerName, plan.variation.stepNoise(firstImage, n, 4 * plane));
		scheduler.setTimesteps(plan.steps);
		double[] timesteps = scheduler.timesteps();
		ImageSource.Batch start = source.start(scheduler, firstImage, n); // pure noise, or the input noised to its start
		int end = refining == null ? timesteps.length : RefinerHandoff.baseEnd(scheduler, refining.switchAt);
		int stepsTotal = refining == null ? end - start.first
			: end - Math.min(start.first, end) + refining.steps(plan, firstImage);
		return loop(plan, unet, scheduler, start.latents, start.first, end, start, firstImage, totalImages, 0,
			stepsTotal, progress, cancellation);
	}

	/**
	 * Runs timesteps {@code from … to − 1} of {@code scheduler} on {@code latents}; progress counts them after
	 * {@code stepsBefore} of {@code stepsTotal} (a refiner continues the base's count).
	 */
	Denoised loop(Plan plan, NoisePredictor unet, Scheduler scheduler, float[] latents, int from, int to,
		ImageSource.Batch blend, int firstImage, int totalImages, int stepsBefore, int stepsTotal,
		ProgressListener progress, Cancellation cancellation) throws OrtException
	{
		int n = plan.batch, plane = plan.latentW * plan.latentH;
		double[] timesteps = scheduler.timesteps();
		unet.runsSteps(from, timesteps.length);
		long loopStart = System.nanoTime();
		for (int i = from; i < to; i++) {
			int done = i - from; // steps finished before this one
			if (progress.isCanceled() || cancellation.isCancelled()) return new Denoised(latents, true, done, i, false);
			double t = timesteps[i];
			float[] latentModelInput = scheduler.scaleModelInput(latents, t);
			float[] noisePred;
			try { // the last step lets the UNet hand its working memory back before the VAE decoder needs its own
				noisePred = unet.predict(i, t, latentModelInput, i == to - 1, cancellation);
			}
			catch (Cancellation.CancelledException e) { // terminated mid-call: the last finished step is the result
				return new Denoised(latents, true, done, i, false);
			}
			int step = stepsBefore + done + 1;
			NonFinite.checkUnet(noisePred, step, stepsTotal);
			latents = scheduler.step(noisePred, t, latents);
			NonFinite.checkLatents(latents, scheduler.displayName(), step, stepsTotal);
			if (blend != null) blend.afterStep(latents, i); // legacy inpainting: the unmasked region on the input's noise level
			StepProgress finished = new StepProgress(firstImage, totalImages, step, stepsTotal,
				(System.nanoTime() - loopStart) / 1e9 / (done + 1), latents, scheduler.predictedOriginalSample(),
				new long[] { n, 4, plan.latentH, plan.latentW });
			preview(finished, plan, progress);
			progress.stepFinished(finished);
		}
		if (latents.length != n * 4 * plane) throw new IllegalStateException("Scheduler changed the latent size");
		return new Denoised(latents, false, Math.max(0, to - from), Math.max(from, to), false);
	}

	/** This pipeline as the refiner of a request: its text conditioning, encoded once for the run, and its UNet. */
	Refining refining(GenerationRequest request, Plan plan) throws OrtException {
		return new Refining(request, plan);
	}

	/** A run's refiner side (on the refiner's pipeline): continues each batch from the base's latents. */
	final class Refining implements AutoCloseable {
		final double switchAt;
		final VaeCodec vae = vae();
		private final Plan plan;
		private final UnetBatch unetBatch;
		private final TextInputs text;

		private Refining(GenerationRequest request, Plan plan) throws OrtException {
			this.switchAt = request.refinerSwitch();
			this.plan = plan;
			TextEmbeddings embeddings = textConditioning().encode(request.prompt(), request.negativePrompt(), plan.cfg);
			this.unetBatch = UnetBatch.of(model, request, plan,
				cfgMode(plan.unetWidth(), plan.unetHeight(), plan.batch) == CfgMode.SEPARATE);
			this.text = new TextInputs(model.unet(), embeddings, unetBatch);
		}

		private Scheduler scheduler(int firstImage) {
			Scheduler s = schedulers.create(plan.schedulerName,
				plan.variation.stepNoise(firstImage, plan.batch, 4 * plan.latentW * plan.latentH));
			s.setTimesteps(plan.steps);
			return s;
		}

		/** The refiner's steps of a batch (for progress). */
		int steps(Plan plan, int firstImage) {
			Scheduler s = scheduler(firstImage);
			return s.timesteps().length - RefinerHandoff.refinerStart(s, switchAt);
		}

		/** Continues {@code base}'s latents from the switch to the last timestep (diffusers' denoising_start). */
		Denoised run(Denoised base, int firstImage, int totalImages, ProgressListener progress,
			Cancellation cancellation) throws OrtException
		{
			Scheduler scheduler = scheduler(firstImage);
			// image to image whose start lies after the switch: the refiner takes the latents where the base left them
			int from = Math.max(RefinerHandoff.refinerStart(scheduler, switchAt), base.next);
			int to = scheduler.timesteps().length;
			try (UnetRunner unet = new UnetRunner(model, unetBatch, text, null, unetInputs,
				StableDiffusionPipeline.this::countUnetCall))
			{
				Denoised refined = loop(plan, unet, scheduler, base.latents, from, to, null, firstImage, totalImages,
					base.stepsDone, base.stepsDone + to - from, progress, cancellation);
				return new Denoised(refined.latents, refined.interrupted, base.stepsDone + refined.stepsDone, refined.next,
					true);
			}
		}

		@Override
		public void close() {
			text.close();
		}
	}

	/** A full-size preview of the step's first image through the tiny decoder, when there is one and it is wanted. */
	private void preview(StepProgress step, Plan plan, ProgressListener progress) {
		TinyDecoder decoder = tinyDecoder;
		if (decoder == null || !progress.wantsPreview(step)) return;
		float[] x0 = step.predictedOriginal() != null ? step.predictedOriginal() : step.latents();
		int width = plan.latentW * 8, height = plan.latentH * 8;
		float[] nchw = decoder.decode(x0, 0, plan.latentW, plan.latentH);
		progress.preview(step, ImageTensors.fromNchw(nchw, 0, width, height));
	}

	private void countUnetCall(long samples) {
		unetCalls.incrementAndGet();
		unetSamples.addAndGet(samples);
	}

	/**
	 * Refuses, before any work, a size or batch the CPU's memory cannot hold ({@link MemoryEstimate}); with tiled
	 * diffusion the UNet's attention sees one tile at a time.
	 */
	private void checkMemory(Plan plan) {
		if (!"CPU".equals(info.provider())) return;
		memory().check(plan.width, plan.height, plan.unetWidth(), plan.unetHeight(), plan.batch,
			plan.cfg && cfgMode(plan.unetWidth(), plan.unetHeight(), plan.batch) == CfgMode.BATCHED, info.sizeStep(),
			MemoryEstimate.availableBytes(), Plan.MAX_SIZE);
	}

	/**
	 * Image to image or inpainting where no denoising step runs (strength 0, or {@code steps × strength < 1}): the
	 * input image itself, every image of the batch, without running any model (the VAE round trip would blur it).
	 */
	private GenerationResult unchanged(GenerationRequest request, Plan plan, ImageParameters parameters, long start,
		Consumer<GeneratedImage> sink)
	{
		int total = request.batchSize() * request.batchCount();
		for (int i = 0; i < total; i++) {
			sink.accept(new GeneratedImage(ImageTensors.copy(request.initImage()), plan.variation.seed(i),
				parameters.forImage(i)));
		}
		return new GenerationResult(List.of(), false, seconds(start));
	}

	private static double seconds(long start) {
		return (System.nanoTime() - start) / 1e9;
	}

	private synchronized TextConditioning textConditioning() {
		if (textConditioning == null) textConditioning = TextConditioning.forModel(model);
		return textConditioning;
	}

	/** The VAE with the tiling set now. */
	private VaeCodec vae() {
		return new VaeCodec(model, vaeTiling, tinyFinal ? tinyDecoder : null);
	}

	/** VAE encoder: [1, 3, H, W] in [−1, 1] → scaled latents [1, 4, H/8, W/8] (tests). */
	float[] encodeImage(float[] nchw, int width, int height) {
		return vae().encode(nchw, width, height);
	}

	/** Decodes latents (e.g. from a {@link StepProgress}) for a preview or a test: image {@code index}, X × Y × 3. */
	public Img<FloatType> decodeLatents(float[] latents, int index, int width, int height) {
		return vae().decode(latents, index, width, height);
	}

	/** Encodes an RGB image (X × Y × 3 in [0, 1]) and decodes it again: what image to image at strength 0 returns. */
	public Img<FloatType> vaeRoundTrip(RandomAccessibleInterval<FloatType> rgb) {
		int w = (int) rgb.dimension(0), h = (int) rgb.dimension(1);
		VaeCodec vae = vae();
		return vae.decode(vae.encode(ImageTensors.toNchw(rgb), w, h), 0, w, h);
	}
}
