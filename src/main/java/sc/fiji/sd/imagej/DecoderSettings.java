package sc.fiji.sd.imagej;

import java.nio.file.Path;

import ij.Prefs;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.model.TinyDecoder;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;

/**
 * The tiny decoder chosen in Settings (shared by the Fiji commands and the ImageJ 1 plugins through IJ_Prefs.txt):
 * used for the live preview whenever set, and for the final images when {@code finalImages}.
 *
 * @param folder a folder with taesd_decoder/model.onnx (or a diffusers AutoencoderTiny); empty: none
 * @param finalImages whether the final images are decoded with it too, instead of the model's VAE
 */
public record DecoderSettings(String folder, boolean finalImages) {

	private static final String KEY = "stable.diffusion.decoder";

	public DecoderSettings {
		folder = folder == null ? "" : folder.trim();
	}

	public static DecoderSettings load() {
		return new DecoderSettings(Prefs.get(KEY, ""), Prefs.get(KEY + ".final", false));
	}

	/** Saves them, after checking that a folder, if any, holds a tiny decoder. */
	public void save() {
		if (!folder.isEmpty()) TinyDecoder.file(Path.of(folder));
		Prefs.set(KEY, folder);
		Prefs.set(KEY + ".final", finalImages);
	}

	/** Gives the pipeline the tiny decoder (opened by the model, which owns it), when one is set. */
	public void apply(StableDiffusionModel model, StableDiffusionPipeline pipeline) {
		if (!folder.isEmpty()) pipeline.setTinyDecoder(model.tinyDecoder(Path.of(folder)), finalImages);
	}
}
