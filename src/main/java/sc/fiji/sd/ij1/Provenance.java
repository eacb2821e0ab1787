package sc.fiji.sd.ij1;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import ij.ImagePlus;

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

	/** Saves the current slice as PNG with a {@code parameters} text chunk (when the image has provenance). */
	public static Path savePng(ImagePlus imp, Path path) {
		if (!path.getFileName().toString().toLowerCase().endsWith(".png"))
			path = path.resolveSibling(path.getFileName() + ".png");
		Map<String, String> text = new LinkedHashMap<>();
		String parameters = parameters(imp);
		if (parameters != null) text.put("parameters", parameters);
		text.put("Software", "Stable Diffusion for Fiji");
		var rgb = ImagePlusConverter.toRgb(imp);
		Generators.writePng(path, rgb, text);
		return path;
	}
}
