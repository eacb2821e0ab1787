package sc.fiji.sd.pipeline;

import java.util.Arrays;
import java.util.Random;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;

import sc.fiji.sd.image.ImageTensors;
import sc.fiji.sd.image.Masks;
import sc.fiji.sd.model.ModelInfo;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;
import sc.fiji.sd.scheduler.Scheduler;

/**
 * What the loop starts from and what the input image and mask add to it: pure noise for text to image; for image to
 * image and inpainting the VAE latents of the input noised to the start timestep; the 9-channel inpainting UNet's extra
 * channels (mask + latents of the masked image); the legacy 4-channel inpainting blend after each step; and the
 * feathered paste of the result into the input.
 * <p>
 * Reproducibility: the initial noise of image {@code i} of a batch is {@code new java.util.Random(seed + i)}
 * {@code .nextGaussian()} drawn in NCHW order (channel, then row, then column); with a variation strength above 0 it
 * is that noise interpolated towards the variation seed's ({@link VariationSeeds}).
 */
final class ImageSource {

	private final Plan plan;
	private final RandomAccessibleInterval<FloatType> initImage;
	private final boolean blendLatents; // 4-channel model inpainting: legacy latent blending
	private final boolean sdxl; // SDXL's pipelines start image to image without steps_offset
	private float[] latents; // [1, 4, h, w], scaled; null: no input image
	private float[] latentMask; // [h, w], 0/1
	private float[] unetChannels; // [5, h, w]: mask, masked-image latents (9-channel UNet only)
	private float[] pasteAlpha; // [H, W] or null

	private ImageSource(Plan plan, GenerationRequest request, ModelInfo info) {
		this.plan = plan;
		this.initImage = request.initImage();
		this.blendLatents = plan.mode == Mode.INPAINT && !info.inpainting();
		this.sdxl = info.isSdxl();
	}

	/** Encodes the input image and mask as far as the mode and the model need them (text to image: nothing). */
	static ImageSource of(Plan plan, GenerationRequest request, ModelInfo info, VaeCodec vae, ProgressListener progress) {
		ImageSource s = new ImageSource(plan, request, info);
		if (plan.mode == Mode.TEXT_TO_IMAGE && !info.inpainting()) return s;
		progress.status("Encoding the input image");
		int w = plan.width, h = plan.height, plane = plan.latentW * plan.latentH;
		float[] image = request.initImage() == null ? new float[3 * w * h] : ImageTensors.toNchw(request.initImage());
		NonFinite.checkInputImage(image);
		if (request.initImage() != null) s.latents = vae.encode(image, w, h);
		if (plan.mode == Mode.INPAINT) {
			float[] binary = Masks.binary(request.mask());
			s.latentMask = Masks.toLatent(request.mask(), plan.latentW, plan.latentH);
			s.pasteAlpha = Masks.featherInside(binary, w, h, request.maskFeather());
			if (info.inpainting()) {
				float[] masked = image.clone();
				Masks.maskImageTensor(masked, binary, w, h);
				s.unetChannels = new float[5 * plane];
				System.arraycopy(s.latentMask, 0, s.unetChannels, 0, plane);
				System.arraycopy(vae.encode(masked, w, h), 0, s.unetChannels, plane, 4 * plane);
			}
		}
		else if (info.inpainting()) {
			// An inpainting UNet used for text to image or image to image: everything is "repaint", and the masked
			// image is all mid-grey, as AUTOMATIC1111 does.
			s.unetChannels = new float[5 * plane];
			Arrays.fill(s.unetChannels, 0, plane, 1f);
			System.arraycopy(vae.encode(new float[3 * w * h], w, h), 0, s.unetChannels, plane, 4 * plane);
		}
		return s;
	}

	/** The 9-channel UNet's channels after the 4 latent ones, the same for every image ({@code [5, h, w]}), or null. */
	float[] unetChannels() {
		return unetChannels;
	}

	/** Inpainting: the decoded image pasted into the input through the feathered mask; otherwise {@code pixels}. */
	Img<FloatType> paste(Img<FloatType> pixels) {
		return pasteAlpha == null ? pixels : Masks.paste(initImage, pixels, pasteAlpha);
	}

	/** Where one batch of {@code images}, the run's {@code firstImage} and those after it, starts, for this scheduler. */
	Batch start(Scheduler scheduler, int firstImage, int images) {
		return new Batch(scheduler, firstImage, images);
	}

	/** One batch's start latents and first timestep index, and the legacy inpainting blend after each step. */
	final class Batch {
		final float[] latents;
		final int first;
		private final Scheduler scheduler;
		private final float[] noise, original;

		private Batch(Scheduler scheduler, int firstImage, int images) {
			this.scheduler = scheduler;
			double[] timesteps = scheduler.timesteps();
			noise = plan.variation.initialNoise(firstImage, images, 4, plan.latentH, plan.latentW);
			// diffusers' SDXL img2img/inpaint get_timesteps: init = min(int(steps × strength), steps), noised to and
			// started at the same timestep (no steps_offset, unlike its SD 1.x ONNX pipeline)
			Start s = Start.of(plan, sdxl ? 0 : scheduler.config().stepsOffset(), scheduler.order(), timesteps.length);
			original = ImageSource.this.latents == null ? null : repeat(ImageSource.this.latents, images);
			if (original == null || s.fromPureNoise) latents = scale(noise, scheduler.initNoiseSigma());
			else if (s.first >= timesteps.length) latents = original.clone(); // strength 0: no denoising at all
			else latents = scheduler.addNoise(original, noise, timesteps[s.noiseIndex]);
			first = s.first;
		}

		/** After step {@code i}: legacy inpainting keeps the unmasked region on the original's noise level. */
		void afterStep(float[] latents, int i) {
			if (!blendLatents) return;
			double[] timesteps = scheduler.timesteps();
			float[] known = i + 1 < timesteps.length ? scheduler.addNoise(original, noise, timesteps[i + 1]) : original;
			blend(latents, known, latentMask, latents.length / (4 * latentMask.length), latentMask.length);
		}
	}

	/**
	 * Where the loop starts for image to image and inpainting, after diffusers' ONNX img2img pipeline:
	 * {@code initSteps = min(int(steps × strength) + steps_offset, steps)}, the input is noised to
	 * {@code timesteps[−initSteps]} and the loop runs from {@code steps − initSteps + steps_offset}. Strength 1 starts
	 * from pure noise (the input is ignored); no step to run (strength 0) means the input is returned as it is.
	 */
	record Start(int first, int noiseIndex, boolean fromPureNoise) {
		/** Image to image or inpainting that runs no denoising step: {@code int(steps × strength) == 0}. */
		static boolean runsNoStep(Plan plan) {
			return plan.strength < 1.0 && (int) (plan.steps * plan.strength) == 0;
		}

		/**
		 * @param stepsOffset the scheduler config's {@code steps_offset} (1 for SD 1.5)
		 * @param order timesteps per step: 2 for Heun (diffusers' scheduler.order), else 1
		 * @param count length of the scheduler's timestep list (PNDM lists one extra at the start)
		 */
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

	private static float[] scale(float[] v, double s) {
		float[] out = new float[v.length];
		for (int i = 0; i < v.length; i++) out[i] = (float) (v[i] * s);
		return out;
	}

	static float[] repeat(float[] one, int times) {
		float[] out = new float[one.length * times];
		for (int i = 0; i < times; i++) System.arraycopy(one, 0, out, i * one.length, one.length);
		return out;
	}
}
