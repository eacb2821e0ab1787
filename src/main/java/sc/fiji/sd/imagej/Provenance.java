package sc.fiji.sd.imagej;

import java.nio.file.Path;
import java.util.Map;

import ij.ImagePlus;
import sc.fiji.sd.StableDiffusionException;

/** Reads a result's provenance back from an ImagePlus and writes it into PNG files. */
public final class Provenance {

	private Provenance() {}

	/**
	 * The A1111 parameters text of the current slice: from its slice label (batches), else the image's
	 * {@code parameters} property, else the Info text (after a TIFF round trip); null when the image has none.
	 */
	public static String parameters(ImagePlus imp) {
		if (imp.getStackSize() > 1) {
			String label = imp.getStack().getSliceLabel(imp.getCurrentSlice());
			if (label != null && label.contains("\n")) return label.substring(label.indexOf('\n') + 1);
		}
		Object property = imp.getProperty(Generation.PARAMETERS_PROPERTY);
		if (property instanceof String s) return s;
		String info = imp.getInfoProperty();
		if (info != null && info.contains("parameters: ")) {
			String rest = info.substring(info.indexOf("parameters: ") + "parameters: ".length());
			int next = rest.indexOf("\n\nImage ");
			return (next >= 0 ? rest.substring(0, next) : rest).strip();
		}
		return null;
	}

	/**
	 * Saves the current slice as PNG with the same text chunks as the command line writes ({@code parameters},
	 * {@code Software}, {@code AI-generated}, {@code Comment}).
	 *
	 * @throws StableDiffusionException when the image has no Stable Diffusion parameters (it was not made here, or
	 *         lost them): saving it "with parameters" would claim a provenance it does not have
	 */
	public static Path savePng(ImagePlus imp, Path path) {
		String parameters = parameters(imp);
		if (parameters == null)
			throw new StableDiffusionException("\"" + imp.getTitle() + "\" has no Stable Diffusion parameters (it was not "
				+ "made by Text to Image, Image to Image or Inpaint, or they were lost). Save it with File › Save As › "
				+ "PNG... instead, or select a generated image.");
		if (!path.getFileName().toString().toLowerCase().endsWith(".png"))
			path = path.resolveSibling(path.getFileName() + ".png");
		Map<String, String> text = sc.fiji.sd.provenance.Provenance.pngText(parameters,
			sc.fiji.sd.provenance.Provenance.modelOf(parameters));
		var rgb = ImagePlusConverter.toRgb(imp);
		Generators.writePng(path, rgb, text);
		return path;
	}
}
